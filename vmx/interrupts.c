/* Interrupt injection, interrupt windows, HLT and the timers that wake it, on one vCPU. */
#include "vmx/interrupts.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_ops.h"
#include "vmm/log.h"
#include "vmm/status.h"
#include "vmm/tsc.h"
#include "vmm/vm.h"
#include "vmm/x86.h"

#define RFLAGS_IF		(1ull << 9)
#define BLOCKING_STI_MOVSS	3ull	/* interruptibility bits 0 (STI) and 1 (MOV SS) */
#define NO_DEADLINE		UINT64_MAX
/*
 * A halted guest whose timers keep firing without anything becoming
 * deliverable (every source masked) would be woken and halted forever:
 * after this many fruitless wake-ups in a row it is ended instead.
 */
#define MAX_FRUITLESS_WAKEUPS	100000u
#define VM_CLOCK_MAX		(1ull << 62)

uint64_t vm_clock_now(void *ctx)
{
	const struct vm *vm = ctx;

	return tsc_read() + vm->clock_skip;
}

uint64_t vm_clock_hz(void)
{
	return tsc_hz();
}

void vm_pit_irq0(void *ctx)
{
	vm_isa_irq(ctx, 0, true);
	vm_isa_irq(ctx, 0, false);
}

void vm_isa_irq(void *ctx, unsigned irq, bool level)
{
	struct vm *vm = ctx;

	if (irq < PIC_IRQS)
		pic_set_irq(&vm->pic, irq, level);
	ioapic_set_irq(&vm->ioapic, ioapic_gsi_of_isa_irq(irq), level);
}

void vm_ioapic_deliver(void *ctx, const struct ioapic_message *msg)
{
	struct vm *vm = ctx;

	if ((msg->mode != IOAPIC_DM_FIXED && msg->mode != IOAPIC_DM_LOWEST) ||
	    !lapic_match_destination(&vm->lapic, msg->dest, msg->logical)) {
		vm->ioapic_dropped++;
		return;
	}
	lapic_accept_irq(&vm->lapic, msg->vector, msg->level);
}

void vm_lapic_eoi(void *ctx, uint8_t vector)
{
	struct vm *vm = ctx;

	ioapic_eoi(&vm->ioapic, vector);
}

/* Every device timer caught up with the VM clock. */
static void update_devices(struct vm *vm)
{
	pit_update(&vm->pit);
	lapic_update(&vm->lapic);
}

static uint64_t next_deadline(const struct vm *vm)
{
	uint64_t pit = pit_next_deadline(&vm->pit), lapic = lapic_next_deadline(&vm->lapic);

	_Static_assert(PIT_NO_DEADLINE == NO_DEADLINE && LAPIC_NO_DEADLINE == NO_DEADLINE,
		       "one 'no deadline' value");
	return pit < lapic ? pit : lapic;
}

/*
 * The vector the interrupt controllers present, or -1 (nothing is
 * acknowledged).  The local APIC's own interrupts come first (subject to
 * its PPR); the 8259's INTR reaches the CPU through LINT0 in ExtINT mode,
 * or directly while the APIC is disabled, as on a PC and in QEMU
 * (cpu_get_pic_interrupt()).
 */
static int pending_vector(const struct vm *vm)
{
	int v = lapic_pending_vector(&vm->lapic);

	if (v >= 0)
		return v;
	return lapic_accepts_pic(&vm->lapic) ? pic_pending_vector(&vm->pic) : -1;
}

/* INTA: the vector, now in service at its controller (the one pending_vector() chose). */
static uint8_t acknowledge(struct vm *vm)
{
	if (lapic_pending_vector(&vm->lapic) >= 0)
		return lapic_ack(&vm->lapic);
	return pic_ack(&vm->pic);
}

static bool can_take_interrupt(void)
{
	return (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & BLOCKING_STI_MOVSS);
}

static void set_window_exiting(struct vcpu *v, bool on)
{
	uint32_t proc = on ? v->proc_controls | PROC_INTERRUPT_WINDOW_EXITING
			   : v->proc_controls & ~PROC_INTERRUPT_WINDOW_EXITING;

	if (proc != v->proc_controls) {
		v->proc_controls = proc;
		vmwrite(VMCS_PROC_CONTROLS, proc);
	}
}

/*
 * The preemption timer counts down once every 2^rate TSC cycles while the
 * guest runs (the VMM's own time in exits does not count).  It serves
 * both the watchdog (a budget of guest run time) and the device timers (an
 * exit no later than the next deadline, so a guest spinning with no exits
 * still gets its ticks); whichever is nearer is armed, and the flag says
 * which one an expiry means.
 */
static void arm_preemption_timer(struct vcpu *v, uint64_t deadline)
{
	unsigned rate = vmx_caps()->preemption_timer_rate;
	uint64_t cycles = UINT64_MAX;
	uint64_t ticks;

	if (!v->preemption_timer)
		return;
	v->timer_is_watchdog = false;
	if (deadline != NO_DEADLINE) {
		uint64_t now = vm_clock_now(v->vm);

		cycles = deadline > now ? deadline - now : 0;
	}
	if (v->vm->watchdog_cycles && v->watchdog_left <= cycles) {
		cycles = v->watchdog_left;
		v->timer_is_watchdog = true;
	}
	ticks = cycles >> rate;
	/* A device deadline rounds up (exit at or after it); a watchdog expiry rounds down. */
	if (!v->timer_is_watchdog && ticks < 0xffffffffull)
		ticks++;
	if (ticks > 0xffffffffull)
		ticks = 0xffffffffull;
	v->timer_armed_ticks = (uint32_t)ticks;
	vmwrite(VMCS_PREEMPTION_TIMER, ticks);
}

void vcpu_account_run_time(struct vcpu *v)
{
	uint64_t left, used;

	if (!v->preemption_timer || !v->vm->watchdog_cycles)
		return;
	/* The timer's value was saved on exit (the VM-exit control that comes with the timer). */
	left = vmread(VMCS_PREEMPTION_TIMER) & 0xffffffffull;
	used = left < v->timer_armed_ticks ? (uint64_t)(v->timer_armed_ticks - left)
					     << vmx_caps()->preemption_timer_rate : 0;
	v->watchdog_left = used < v->watchdog_left ? v->watchdog_left - used : 0;
}

void vcpu_prepare_entry_interrupts(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool window = false;
	uint64_t deadline = next_deadline(vm);

	/* Before their next deadline the timers have nothing to raise: most exits skip the update. */
	if (deadline != NO_DEADLINE && deadline <= vm_clock_now(vm)) {
		update_devices(vm);
		deadline = next_deadline(vm);
	}
	if (pending_vector(vm) >= 0) {
		if (!v->event.valid && can_take_interrupt()) {
			uint8_t vector = acknowledge(vm);

			v->event.valid = true;
			v->event.intr_info = INTR_INFO_VALID | (INTR_TYPE_EXTERNAL << INTR_INFO_TYPE_SHIFT) | vector;
			v->event.error_code = 0;
			v->event.instruction_len = 0;
			v->interrupts_injected++;
			v->fruitless_wakeups = 0;
		} else {
			/* Another one waits: exit as soon as the guest can take it (after the exception goes in). */
			window = true;
		}
	}
	set_window_exiting(v, window);
	arm_preemption_timer(v, deadline);
}

void handle_interrupt_window(struct vcpu *v)
{
	/* Nothing to do here: the next entry injects what is pending. */
	(void)v;
}

void handle_preemption_timer(struct vcpu *v)
{
	if (!v->timer_is_watchdog)
		return;	/* a device deadline: the next entry brings the timers up to date */
	vm_end(v->vm, VMM_STATUS_GUEST_WATCHDOG,
	       "watchdog: still running after %lu TSC cycles (rip %#lx); set watchdog= to allow more",
	       v->vm->watchdog_cycles, vmread(VMCS_GUEST_RIP));
}

/*
 * HLT completes at once (RIP past it; the VMM never leaves the vCPU in the
 * HLT activity state).  With IF = 1 and an interrupt pending, the next
 * entry delivers it, as a halted CPU wakes.  With IF = 1 and nothing
 * pending, the guest is halted until the next timer deadline: rather than
 * waiting that long in real time, the VM clock (and the guest's TSC, by
 * the TSC offset) jumps to the deadline, so a halt costs one exit whatever
 * its length, and runs under Bochs and on hardware take the same number
 * of guest steps.  The HLT is then executed again if the timer made
 * nothing deliverable, by leaving RIP on it.  With IF = 0, or no timer
 * armed, nothing can ever wake the guest: it is ended with the reason.
 */
void handle_hlt(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	uint64_t deadline, now;

	if (!(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF)) {
		vm_end(vm, VMM_STATUS_GUEST_HALTED,
		       "HLT at rip %#lx with interrupts disabled: nothing can ever wake it", rip);
		return;
	}
	update_devices(vm);
	if (pending_vector(vm) >= 0) {
		vcpu_skip_instruction(v);
		return;
	}
	deadline = next_deadline(vm);
	if (deadline == NO_DEADLINE) {
		vm_end(vm, VMM_STATUS_GUEST_HALTED,
		       "HLT at rip %#lx with interrupts enabled but no interrupt source armed: nothing can ever wake it",
		       rip);
		return;
	}
	if (++v->fruitless_wakeups > MAX_FRUITLESS_WAKEUPS) {
		vm_end(vm, VMM_STATUS_GUEST_HALTED,
		       "HLT at rip %#lx: %u timer expiries in a row delivered nothing (the interrupts are masked)",
		       rip, MAX_FRUITLESS_WAKEUPS);
		return;
	}
	now = vm_clock_now(vm);
	if (deadline > now) {
		uint64_t skip = deadline - now;

		/* Deadlines are compared as plain numbers: the clock must never wrap (2^62 cycles is decades). */
		if (now + skip > VM_CLOCK_MAX) {
			vm_end(vm, VMM_STATUS_GUEST_HALTED,
			       "HLT at rip %#lx: sleeping to the next timer would run the VM clock past 2^62 cycles", rip);
			return;
		}
		vm->clock_skip += skip;
		vmwrite(VMCS_TSC_OFFSET, vmread(VMCS_TSC_OFFSET) + skip);
		vm->halted_cycles += skip;
	}
	update_devices(vm);
	/* Woken: past the HLT; else it runs again (and exits again) at its own RIP. */
	if (pending_vector(vm) >= 0)
		vcpu_skip_instruction(v);
}
