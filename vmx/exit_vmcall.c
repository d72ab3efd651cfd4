/* VMCALL: the hypercall interface of the test guests (docs/guests.md). */
#include "vmx/exits.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_ops.h"
#include "vmm/log.h"
#include "vmm/x86.h"

#define HC_PING			0
#define HC_PUTS			1
#define HC_EXIT			2
#define HC_PING_ANSWER		0x564d4d01	/* "VMM", interface version 1 */
#define HC_PUTS_MAX		4096
#define HC_ENOSYS		(-1000)		/* as KVM's -KVM_ENOSYS */
#define HC_EPERM		(-1)
#define HC_EFAULT		(-14)
#define HC_EINVAL		(-22)

static int64_t hypercall_puts(struct vcpu *v, uint64_t gpa, uint64_t len)
{
	const char *text;

	if (len > HC_PUTS_MAX)
		return HC_EINVAL;
	text = vm_gpa_to_host(v->vm, gpa, len);
	if (!text)
		return HC_EFAULT;
	vm_console_write(v->vm, text, len);
	return 0;
}

void handle_vmcall(struct vcpu *v)
{
	uint64_t nr = v->regs.rax, a0 = v->regs.rbx, a1 = v->regs.rcx;
	int64_t result;

	v->vm->stats.hypercalls++;
	if (!vcpu_long_mode_active(v)) {
		nr &= 0xffffffffull;
		a0 &= 0xffffffffull;
		a1 &= 0xffffffffull;
	}
	if (vcpu_cpl() != 0) {
		result = HC_EPERM;	/* hypercalls are for the guest kernel, not its programs */
	} else {
		switch (nr) {
		case HC_PING:
			result = HC_PING_ANSWER;
			break;
		case HC_PUTS:
			result = hypercall_puts(v, a0, a1);
			break;
		case HC_EXIT:
			vm_guest_exit(v->vm, (uint32_t)a0);
			result = 0;
			break;
		default:
			result = HC_ENOSYS;
			break;
		}
	}
	v->regs.rax = (uint64_t)result;
	vcpu_skip_instruction(v);
}
