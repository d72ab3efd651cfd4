/* triple_fault: an exception with an empty IDT escalates to #DF and then to a triple fault (shutdown). */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	static const struct table_desc empty_idt = { .limit = 0, .base = 0 };

	(void)magic;
	(void)mbi;
	printf("guest: about to triple-fault\n");
	/* int3 finds no gate (#GP), neither does #GP (#DF), nor #DF: shutdown. */
	lidt(&empty_idt);
	asm volatile("int3" : : : "memory");
	printf("guest: FAIL still running after the triple fault\n");
	return EXIT_FAIL;
}
