/* I/O instruction exits: IN/OUT and INS/OUTS with and without REP, routed to the VM's I/O bus. */
#include "vmx/exits.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_ops.h"
#include "vmm/status.h"
#include "vmm/x86.h"

#define IO_QUAL_SIZE_MASK	7u
#define IO_QUAL_IN		(1u << 3)
#define IO_QUAL_STRING		(1u << 4)
#define IO_QUAL_REP		(1u << 5)
#define RFLAGS_DF		(1ull << 10)

#define GPR_RCX	1
#define GPR_RSI	6
#define GPR_RDI	7

/* Elements per exit: a long REP goes on by re-executing the instruction, so no exit is unbounded. */
#define STRING_IO_CHUNK	4096

static const uint32_t segment_base_fields[6] = {
	VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
	VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE,
};

/* Writes a register the way an instruction with this address size does. */
static uint64_t merge_by_size(uint64_t old, uint64_t value, unsigned bytes)
{
	if (bytes == 8)
		return value;
	if (bytes == 4)
		return value & 0xffffffffull;
	return (old & ~0xffffull) | (value & 0xffff);
}

static void port_in_out(struct vcpu *v, uint16_t port, unsigned size, bool in)
{
	uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	if (in) {
		uint32_t value = io_bus_read(&v->vm->io, port, size) & mask;

		/* IN EAX zero-extends into RAX; IN AL/AX leave the rest alone. */
		v->regs.rax = size == 4 ? value : (v->regs.rax & ~(uint64_t)mask) | value;
	} else {
		io_bus_write(&v->vm->io, port, size, (uint32_t)v->regs.rax & mask);
	}
}

/*
 * One piece of an element: `len` bytes at linear that lie in one page,
 * between guest RAM or a device on the MMIO bus and `bytes`.  A device gets
 * the piece as one access, as a CPU would issue it.
 */
static bool copy_piece(struct vcpu *v, uint64_t linear, uint8_t *bytes, unsigned len, bool to_guest)
{
	uint64_t gpa;
	uint32_t pf_error;
	uint8_t *p;

	if (!vcpu_gva_to_gpa(v, linear, vcpu_data_access(vcpu_cpl() == 3, to_guest), &gpa, &pf_error)) {
		v->regs.cr2 = linear;
		vcpu_inject_exception(v, 14, true, pf_error);
		return false;
	}
	p = vm_gpa_to_host(v->vm, gpa, len);
	if (p) {
		if (to_guest)
			return vcpu_write_guest(v, gpa, bytes, len);
		__builtin_memcpy(bytes, p, len);
		return true;
	}
	if (to_guest ? mmio_bus_write(&v->vm->mmio, gpa, bytes, len) : mmio_bus_read(&v->vm->mmio, gpa, bytes, len))
		return true;
	vm_end(v->vm, VMM_STATUS_GUEST_UNHANDLED,
	       "string I/O with memory operand at guest-physical %#lx where there is neither RAM nor a device", gpa);
	return false;
}

/* Copies one element between the guest's linear memory and `bytes`; an element crossing a page goes a byte at a time. */
static bool copy_element(struct vcpu *v, uint64_t linear, uint8_t *bytes, unsigned size,
			 bool to_guest)
{
	unsigned i;

	if ((linear & 0xfff) + size <= 0x1000)
		return copy_piece(v, linear, bytes, size, to_guest);
	for (i = 0; i < size; i++) {
		if (!copy_piece(v, linear + i, bytes + i, 1, to_guest))
			return false;
	}
	return true;
}

static void string_io(struct vcpu *v, uint16_t port, unsigned size, bool in, bool rep)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO);
	unsigned addr_bytes = 2u << ((info >> 7) & 7);
	uint64_t addr_mask = addr_bytes == 8 ? ~0ull : (1ull << (8 * addr_bytes)) - 1;
	unsigned index_reg = in ? GPR_RDI : GPR_RSI;
	/* INS always writes ES:RDI; OUTS reads the (overridable) segment in the instruction information. */
	unsigned segment = in ? 0 : (info >> 15) & 7;
	bool long_mode = vcpu_in_64bit_mode(v);
	uint64_t base = (long_mode && segment < 4) || segment > 5 ? 0 :
			vmread(segment_base_fields[segment]);
	uint64_t rcx = vcpu_gpr(v, GPR_RCX), index = vcpu_gpr(v, index_reg);
	uint64_t count = rep ? rcx & addr_mask : 1, done;
	int64_t step = (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;

	for (done = 0; done < count && done < STRING_IO_CHUNK; done++) {
		uint64_t linear = base + (index & addr_mask);
		uint8_t bytes[4] = { 0 };
		uint32_t value = 0;

		if (!long_mode)
			linear &= 0xffffffffull;
		if (in) {
			value = io_bus_read(&v->vm->io, port, size);
			__builtin_memcpy(bytes, &value, size);
			if (!copy_element(v, linear, bytes, size, true))
				break;
		} else {
			if (!copy_element(v, linear, bytes, size, false))
				break;
			__builtin_memcpy(&value, bytes, size);
			io_bus_write(&v->vm->io, port, size, value);
		}
		index = merge_by_size(index, index + (uint64_t)step, addr_bytes);
		v->vm->stats.io_string_elements++;
	}
	vcpu_set_gpr(v, index_reg, index);
	if (rep)
		vcpu_set_gpr(v, GPR_RCX, merge_by_size(rcx, count - done, addr_bytes));
	/* Finished, or faulted (the fault is injected with RIP still on the instruction). */
	if (done == count)
		vcpu_skip_instruction(v);
}

void handle_io(struct vcpu *v)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned size = (q & IO_QUAL_SIZE_MASK) + 1;
	uint16_t port = (uint16_t)(q >> 16);
	bool in = q & IO_QUAL_IN;

	v->vm->stats.io_exits++;
	if (q & IO_QUAL_STRING) {
		string_io(v, port, size, in, q & IO_QUAL_REP);
		return;
	}
	port_in_out(v, port, size, in);
	vcpu_skip_instruction(v);
}
