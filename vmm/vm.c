/* VM lifecycle: RAM and memslots (with the generation rules), EPT, the PC devices and the MMIO test device, how a guest ends. */
#include <stdarg.h>
#include "vmm/acpi.h"
#include "vmm/exit.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/page_alloc.h"
#include "vmm/status.h"
#include "vmm/string.h"
#include "vmm/tsc.h"
#include "vmm/vm.h"
#include "vmm/x86.h"
#include "vmx/interrupts.h"

#define CPUID_80000001_EDX_NX	(1u << 20)

#define COM1_BASE		0x3f8
#define ISA_DEBUG_EXIT_BASE	0xf4	/* as QEMU's -device isa-debug-exit,iobase=0xf4,iosize=0x04 */
#define ISA_DEBUG_EXIT_PORTS	4

/* Free host memory a guest's HC_MEMSLOT_ADD must leave for the VMM's own needs (EPT, shadow pages come from it). */
#define VM_HOST_RESERVE_BYTES	(8ull << 20)

static uint64_t pages_for(uint64_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

void vm_console_write(struct vm *vm, const char *text, uint64_t len)
{
	uint64_t start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i == len || text[i] == '\n') {
			if (i > start || i < len)
				log_error("[%s] %.*s\n", vm->name, (int)(i - start), text + start);
			start = i + 1;
		}
	}
}

static void uart_line(void *ctx, const char *line, size_t len)
{
	struct vm *vm = ctx;

	log_error("[%s] %.*s\n", vm->name, (int)len, line);
}

static void debug_exit_write(void *ctx, uint32_t status)
{
	struct vm *vm = ctx;

	if (!vm->ended) {
		vm->ended = true;
		vm->status = (int)status;
	}
}

void vm_guest_exit(struct vm *vm, uint32_t v)
{
	debug_exit_write(vm, (v << 1) | 1);
}

void vm_end(struct vm *vm, int status, const char *fmt, ...)
{
	va_list ap;

	if (vm->ended)
		return;
	vm->ended = true;
	vm->status = status;
	log_error("vmm: guest %s: ", vm->name);
	va_start(ap, fmt);
	log_vat(LOG_ERROR, fmt, ap);
	va_end(ap);
	log_error("\n");
}

static void attach_devices(struct vm *vm)
{
	io_bus_init(&vm->io);
	uart16550_init(&vm->uart, COM1_BASE, uart_line, vm);
	debug_exit_init(&vm->debug_exit, ISA_DEBUG_EXIT_BASE, ISA_DEBUG_EXIT_PORTS,
			debug_exit_write, vm);
	post_port_init(&vm->post);
	pic_init(&vm->pic);
	pit_init(&vm->pit, vm_clock_hz(), vm_clock_now, vm_pit_irq0, vm);
	if (io_bus_register(&vm->io, uart16550_device(&vm->uart)) ||
	    io_bus_register(&vm->io, debug_exit_device(&vm->debug_exit)) ||
	    io_bus_register(&vm->io, post_port_device(&vm->post)) ||
	    io_bus_register(&vm->io, pic_device(&vm->pic, PIC_MASTER)) ||
	    io_bus_register(&vm->io, pic_device(&vm->pic, PIC_SLAVE)) ||
	    io_bus_register(&vm->io, pit_device(&vm->pit)) ||
	    io_bus_register(&vm->io, pit_port61_device(&vm->pit)))
		panic("the standard devices overlap on the I/O bus");
	pm_timer_init(&vm->pm_timer, vm_clock_hz(), vm_clock_now, vm);
	if (io_bus_register(&vm->io, pm_timer_device(&vm->pm_timer)))
		panic("the ACPI PM timer overlaps on the I/O bus");
	mmio_bus_init(&vm->mmio);
	mmio_testdev_init(&vm->testdev, MMIO_TESTDEV_BASE);
	if (mmio_bus_register(&vm->mmio, mmio_testdev_device(&vm->testdev)))
		panic("the MMIO test device does not fit on the MMIO bus");
	lapic_init(&vm->lapic, vm_clock_hz(), vm_clock_now, vm);
	if (mmio_bus_register(&vm->mmio, lapic_device(&vm->lapic)))
		panic("the local APIC does not fit on the MMIO bus");
	ioapic_init(&vm->ioapic, vm_ioapic_deliver, vm);
	lapic_set_eoi_hook(&vm->lapic, vm_lapic_eoi, vm);
	if (mmio_bus_register(&vm->mmio, ioapic_device(&vm->ioapic)))
		panic("the I/O APIC does not fit on the MMIO bus");
	fw_cfg_init(&vm->fw_cfg, vm->ram.size, 1);
	pci_host_init(&vm->pci);
	pc_testdev_init(&vm->pc_testdev, vm_isa_irq, vm);
	if (io_bus_register(&vm->io, fw_cfg_device(&vm->fw_cfg)) ||
	    io_bus_register(&vm->io, pci_host_address_device(&vm->pci)) ||
	    io_bus_register(&vm->io, pci_host_data_device(&vm->pci)) ||
	    pc_testdev_attach(&vm->pc_testdev, &vm->io, &vm->mmio))
		panic("fw_cfg, the PCI host or pc-testdev overlap another device");
}

static void no_memory(const char *what)
{
	log_error("vmm: error: out of memory for %s\n", what);
	vmm_exit(VMM_STATUS_NO_MEMORY);
}

/*
 * The generation rules of mmu/spte.h.  Between begin_change() and
 * end_change() the generation has MEMSLOT_GEN_UPDATE_IN_PROGRESS set, so an
 * MMIO spte made then (none is: one vCPU, changes happen in its exits) could
 * never look current.  end_change() completes the change and makes every
 * MMIO spte stale at once; when the stored bits wrap, the MMU has zapped
 * its shadow pages and the EPT's MMIO entries must go too, or an old one
 * could match the new generation.
 */
static void begin_change(struct vm *vm)
{
	vm->memslot_generation |= MEMSLOT_GEN_UPDATE_IN_PROGRESS;
}

static void end_change(struct vm *vm)
{
	vm->memslot_generation = (vm->memslot_generation & ~MEMSLOT_GEN_UPDATE_IN_PROGRESS) + 1;
	if (mmu_mmio_generation_changed(&vm->mmu, vm->memslot_generation)) {
		ept_drop_mmio(&vm->ept);
		ept_flush(&vm->ept);
	}
}

/* [gpa, gpa + bytes): page-aligned, nonempty, below 2^MAXPHYADDR (and what 4-level EPT covers); no sum wraps. */
static bool gpa_range_ok(const struct vm *vm, uint64_t gpa, uint64_t bytes)
{
	unsigned bits = vm->maxphyaddr < EPT_GPA_BITS ? vm->maxphyaddr : EPT_GPA_BITS;
	uint64_t limit = 1ull << bits;

	return !((gpa | bytes) & (PAGE_SIZE - 1)) && bytes && gpa < limit && bytes <= limit - gpa;
}

/* True when [gpa, gpa + bytes) overlaps a used memslot other than skip (VM_MAX_MEMSLOTS: none skipped). */
static bool overlaps_memslot(const struct vm *vm, uint64_t gpa, uint64_t bytes, unsigned skip)
{
	uint64_t first = gpa / PAGE_SIZE, last = first + bytes / PAGE_SIZE - 1;
	unsigned i;

	for (i = 0; i < VM_MAX_MEMSLOTS; i++) {
		const struct memslot *m = &vm->memslots[i];

		if (i != skip && m->used && first <= m->base_gfn + m->npages - 1 && m->base_gfn <= last)
			return true;
	}
	return false;
}

const struct memslot *vm_memslot_of(const struct vm *vm, uint64_t gfn)
{
	unsigned i;

	for (i = 0; i < VM_MAX_MEMSLOTS; i++) {
		const struct memslot *m = &vm->memslots[i];

		if (m->used && gfn >= m->base_gfn && gfn - m->base_gfn < m->npages)
			return m;
	}
	return NULL;
}

/* Installs a checked range into free slot id: one memslot change.  VM_ENOMEM (nothing changed) without EPT tables. */
static int slot_install(struct vm *vm, unsigned id, uint64_t gpa, uint64_t bytes, uint64_t host_pa)
{
	/* Every table first, so that the change below cannot fail half-way. */
	if (!ept_prepare(&vm->ept, gpa, bytes))
		return VM_ENOMEM;
	begin_change(vm);
	vm->memslots[id] = (struct memslot){ gpa / PAGE_SIZE, bytes / PAGE_SIZE, host_pa, true };
	/* Over any MMIO entries there: RAM hides the device from now on. */
	ept_map(&vm->ept, gpa, host_pa, bytes);
	end_change(vm);
	return 0;
}

static int free_slot(const struct vm *vm)
{
	int i;

	for (i = 1; i < VM_MAX_MEMSLOTS; i++)
		if (!vm->memslots[i].used)
			return i;
	return -1;
}

int vm_memslot_create(struct vm *vm, uint64_t gpa, uint64_t bytes)
{
	uint64_t host_pa;
	int id, r;

	if (!gpa_range_ok(vm, gpa, bytes) || bytes > VM_GUEST_SLOT_MAX_BYTES ||
	    bytes / PAGE_SIZE > MMU_MAX_MEMSLOT_PAGES || overlaps_memslot(vm, gpa, bytes, VM_MAX_MEMSLOTS))
		return VM_EINVAL;
	id = free_slot(vm);
	if (id < 0)
		return VM_ENOSPC;
	/*
	 * The guest decides how much it asks for: a cap, and room left for the
	 * VMM's own allocations (which end the run when they fail).
	 */
	if (bytes > VM_GUEST_SLOTS_MAX_BYTES - vm->guest_slot_bytes ||
	    memory_free_bytes() < bytes + VM_HOST_RESERVE_BYTES)
		return VM_ENOMEM;
	host_pa = memory_try_alloc_pages(bytes / PAGE_SIZE);	/* zeroed */
	if (!host_pa)
		return VM_ENOMEM;
	r = slot_install(vm, (unsigned)id, gpa, bytes, host_pa);
	if (r) {
		memory_free_pages(host_pa, bytes / PAGE_SIZE);
		return r;
	}
	vm->guest_slot_bytes += bytes;
	return id;
}

/* A slot id the guest may change: VM_EPERM for slot 0, VM_EINVAL for no such slot. */
static int check_guest_slot(const struct vm *vm, uint64_t id)
{
	if (id == 0)
		return VM_EPERM;
	if (id >= VM_MAX_MEMSLOTS || !vm->memslots[id].used)
		return VM_EINVAL;
	return 0;
}

/* Before a slot leaves its place: no shadow page, rmap or EPT entry may keep mapping its frames. */
static void slot_unmap(struct vm *vm, unsigned id)
{
	const struct memslot *m = &vm->memslots[id];

	mmu_memslot_removed(&vm->mmu, id);
	ept_unmap(&vm->ept, m->base_gfn * PAGE_SIZE, m->npages * PAGE_SIZE);
	ept_flush(&vm->ept);
}

int vm_memslot_delete(struct vm *vm, uint64_t id)
{
	int r = check_guest_slot(vm, id);
	struct memslot *m;

	if (r)
		return r;
	m = &vm->memslots[id];
	begin_change(vm);
	slot_unmap(vm, (unsigned)id);
	memory_free_pages(m->host_pa, m->npages);
	vm->guest_slot_bytes -= m->npages * PAGE_SIZE;
	*m = (struct memslot){ 0, 0, 0, false };
	end_change(vm);
	return 0;
}

int vm_memslot_move(struct vm *vm, uint64_t id, uint64_t new_gpa)
{
	int r = check_guest_slot(vm, id);
	struct memslot *m;
	uint64_t bytes;

	if (r)
		return r;
	m = &vm->memslots[id];
	bytes = m->npages * PAGE_SIZE;
	/* It may overlap where it is now, never another slot. */
	if (!gpa_range_ok(vm, new_gpa, bytes) || overlaps_memslot(vm, new_gpa, bytes, (unsigned)id))
		return VM_EINVAL;
	if (!ept_prepare(&vm->ept, new_gpa, bytes))
		return VM_ENOMEM;
	begin_change(vm);
	slot_unmap(vm, (unsigned)id);
	m->base_gfn = new_gpa / PAGE_SIZE;
	ept_map(&vm->ept, new_gpa, m->host_pa, bytes);
	end_change(vm);
	return 0;
}

int vm_testdev_move(struct vm *vm, uint64_t base)
{
	/*
	 * MMIO sptes only say "no RAM here": which device answers is looked up
	 * on the bus at every access, so moving a device changes no memslot
	 * and needs no generation bump.
	 */
	if (!gpa_range_ok(vm, base, MMIO_TESTDEV_SIZE) ||
	    mmio_bus_move(&vm->mmio, mmio_testdev_device(&vm->testdev), base))
		return VM_EINVAL;
	return 0;
}

void *vm_gpa_to_host(struct vm *vm, uint64_t gpa, uint64_t len)
{
	unsigned i;

	for (i = 0; i < VM_MAX_MEMSLOTS; i++) {
		const struct memslot *m = &vm->memslots[i];
		uint64_t start = m->base_gfn * PAGE_SIZE, size = m->npages * PAGE_SIZE;

		if (m->used && gpa >= start && gpa - start <= size && len <= size - (gpa - start))
			return phys_to_virt(m->host_pa + (gpa - start));
	}
	return NULL;
}

/* KVM's ratio: 20 shadow pages per 1000 guest pages, and never fewer than a small guest needs. */
static uint64_t shadow_page_limit(uint64_t ram_bytes)
{
	uint64_t limit = (ram_bytes / PAGE_SIZE) * 20 / 1000;

	return limit < 256 ? 256 : limit;
}

struct vm *vm_create(const char *name, uint64_t ram_bytes, unsigned maxphyaddr, uint64_t mmu_pages)
{
	uint64_t vm_pages = pages_for(sizeof(struct vm));
	struct vm *vm = phys_to_virt(memory_alloc_pages(vm_pages, "a VM"));
	uint64_t ram_pa;

	strlcpy(vm->name, name, sizeof(vm->name));
	ram_bytes = pages_for(ram_bytes) * PAGE_SIZE;
	/* Zeroed by the allocator: no guest ever sees what a previous one left. */
	ram_pa = memory_alloc_pages(ram_bytes / PAGE_SIZE, "guest RAM (lower guest_mem=)");
	vm->ram.host = phys_to_virt(ram_pa);
	vm->ram.size = ram_bytes;
	vm->maxphyaddr = maxphyaddr;
	vm->memslot_generation = MEMSLOT_GEN_INITIAL;
	if (!ept_init(&vm->ept))
		no_memory("an EPT PML4");
	if (!mmu_init(&vm->mmu, maxphyaddr, mmu_pages ? mmu_pages : shadow_page_limit(ram_bytes)))
		no_memory("the shadow MMU");
	/* Firmware can hide NX (XD disabled); then no spte may use it. */
	vm->mmu.host_nx = cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_NX;
	/* The shadow MMU keeps gfn rmaps for this many pages of a memslot and no more (guest_run.c checks guest_mem=). */
	if (ram_bytes / PAGE_SIZE > MMU_MAX_MEMSLOT_PAGES)
		panic("guest RAM of %lu bytes is more than one memslot maps", ram_bytes);
	if (slot_install(vm, 0, 0, ram_bytes, ram_pa))
		no_memory("the EPT tables of guest RAM");
	attach_devices(vm);
	if (acpi_build(&vm->ram))	/* before the guest loads; in the reserved F segment */
		panic("guest RAM of %lu bytes has no room for the ACPI tables", ram_bytes);
	return vm;
}

uint64_t vm_destroy(struct vm *vm)
{
	uint64_t leaked;
	unsigned i;

	ept_destroy(&vm->ept);
	mmu_destroy(&vm->mmu);
	/* mmu_destroy() frees every shadow page, obsolete or not, and all metadata: nothing may be left. */
	leaked = vm->mmu_host_pages;
	for (i = 0; i < VM_MAX_MEMSLOTS; i++)
		if (vm->memslots[i].used)
			memory_free_pages(vm->memslots[i].host_pa, vm->memslots[i].npages);
	memory_free_pages((uintptr_t)vm, pages_for(sizeof(struct vm)));
	return leaked;
}
