/* vmx_insn: every VMX instruction except VMCALL must raise #UD, since the guest sees no VMX. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/string.h"
#include "guest/lib/x86.h"

#define VMCS_VM_INSTRUCTION_ERROR	0x4400
#define INVEPT_SINGLE_CONTEXT		1
#define INVVPID_SINGLE_CONTEXT		1

/* A well-formed operand everywhere, so #UD can only come from VMX being unavailable. */
static uint8_t region[4096] __attribute__((aligned(4096)));
static uint64_t region_pa;
static uint64_t vmptrst_out;
static struct { uint64_t eptp, reserved; } invept_desc;
static struct { uint64_t vpid, linear; } invvpid_desc;

/* Runs one instruction that must fault with #UD; evaluates to the vector caught. */
#define UD_PROBE(insn, ...)						\
	({								\
		expect_exception(EXC_UD);				\
		asm volatile(ASM_TRY("1f") insn "\n1:" __VA_ARGS__);	\
		exception_seen();					\
	})

static int probe_vmxon(void)
{
	return UD_PROBE("vmxon %0", : : "m"(region_pa) : "memory");
}

static int probe_vmxoff(void)
{
	return UD_PROBE("vmxoff", : : : "memory", "cc");
}

static int probe_vmclear(void)
{
	return UD_PROBE("vmclear %0", : : "m"(region_pa) : "memory", "cc");
}

static int probe_vmptrld(void)
{
	return UD_PROBE("vmptrld %0", : : "m"(region_pa) : "memory", "cc");
}

static int probe_vmptrst(void)
{
	return UD_PROBE("vmptrst %0", : "=m"(vmptrst_out) : : "memory");
}

static int probe_vmread(void)
{
	uint32_t value = 0;

	return UD_PROBE("vmread %1, %0", : "+r"(value) : "r"(VMCS_VM_INSTRUCTION_ERROR) : "memory", "cc");
}

static int probe_vmwrite(void)
{
	return UD_PROBE("vmwrite %0, %1", : : "r"(0), "r"(VMCS_VM_INSTRUCTION_ERROR) : "memory", "cc");
}

static int probe_vmlaunch(void)
{
	return UD_PROBE("vmlaunch", : : : "memory", "cc");
}

static int probe_vmresume(void)
{
	return UD_PROBE("vmresume", : : : "memory", "cc");
}

static int probe_invept(void)
{
	return UD_PROBE("invept %0, %1", : : "m"(invept_desc), "r"(INVEPT_SINGLE_CONTEXT) : "memory", "cc");
}

static int probe_invvpid(void)
{
	return UD_PROBE("invvpid %0, %1", : : "m"(invvpid_desc), "r"(INVVPID_SINGLE_CONTEXT) : "memory", "cc");
}

static const struct {
	const char *name;
	int (*probe)(void);
} probes[] = {
	{ "vmxon", probe_vmxon },
	{ "vmxoff", probe_vmxoff },
	{ "vmclear", probe_vmclear },
	{ "vmptrld", probe_vmptrld },
	{ "vmptrst", probe_vmptrst },
	{ "vmread", probe_vmread },
	{ "vmwrite", probe_vmwrite },
	{ "vmlaunch", probe_vmlaunch },
	{ "vmresume", probe_vmresume },
	{ "invept", probe_invept },
	{ "invvpid", probe_invvpid },
};

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	memset(region, 0, sizeof(region));
	region_pa = (uintptr_t)region;
	invept_desc.eptp = region_pa;
	invvpid_desc.vpid = 1;

	for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		int vector = probes[i].probe();

		if (vector != EXC_UD)
			printf("guest: %s: expected #UD, got %d\n", probes[i].name, vector);
		CHECK_EQ(vector, EXC_UD);
		printf("guest: %s raised #UD\n", probes[i].name);
	}
	return guest_pass("vmx_insn");
}
