/* loop: spins forever with interrupts off and no HLT, for the VMM's watchdog to stop. */
#include <stdint.h>
#include "guest/lib/guest.h"

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	printf("guest: looping forever\n");
	/* No HLT: the VMM must stop a guest that never exits on its own. */
	asm volatile("cli\n1:\tjmp 1b" : : : "memory");
	return EXIT_FAIL;
}
