/* hypercall: the VMM's VMCALL interface (ping, puts and its errors, unknown numbers, exit). */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/hypercall.h"
#include "guest/lib/x86.h"

#define UNKNOWN_HC	77
#define BEYOND_RAM	0xF0000000u
#define TOO_LONG	5000

/* Outside a VM (QEMU TCG has no VMX) VMCALL is #UD: that is how a missing VMM shows. */
static bool vmm_answers_ping(void)
{
	long ret = HC_PING;

	expect_exception(EXC_UD);
	asm volatile(ASM_TRY("1f") "vmcall\n1:"
		     : "+a"(ret)
		     : "b"(0), "c"(0), "d"(0)
		     : "memory");
	if (exception_seen() == EXC_UD)
		return false;
	CHECK_EQ(ret, HC_PING_REPLY);
	return true;
}

static void check_puts(void)
{
	static const char msg[] = "guest: hello through HC_PUTS\n";

	CHECK_EQ(hypercall(HC_PUTS, (uintptr_t)msg, sizeof(msg) - 1, 0), 0);
	CHECK_EQ(hypercall(HC_PUTS, (uintptr_t)msg, TOO_LONG, 0), HC_EINVAL);
	CHECK_EQ(hypercall(HC_PUTS, BEYOND_RAM, 16, 0), HC_EFAULT);
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	if (!vmm_answers_ping()) {
		/* A VMM that signs in CPUID but refuses VMCALL is broken, not absent. */
		CHECK(!under_vmm());
		printf("guest: no VMM; hypercalls skipped\n");
		return guest_pass("hypercall");
	}
	CHECK_EQ(hypercall(HC_PING, 0, 0, 0), HC_PING_REPLY);
	check_puts();
	CHECK_EQ(hypercall(UNKNOWN_HC, 1, 2, 3), HC_ENOSYS);

	guest_pass("hypercall");
	hypercall(HC_EXIT, EXIT_PASS, 0, 0);
	printf("guest: HC_EXIT returned\n");
	return EXIT_FAIL;
}
