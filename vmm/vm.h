/* A VM: memslots, guest RAM, the I/O and MMIO buses and their devices, and how the guest ended. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/debug_exit.h"
#include "devices/fw_cfg.h"
#include "devices/io_bus.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/mmio_bus.h"
#include "devices/mmio_testdev.h"
#include "devices/pc_testdev.h"
#include "devices/pci_host.h"
#include "devices/pic.h"
#include "devices/pit.h"
#include "devices/pm_timer.h"
#include "devices/post_port.h"
#include "devices/uart16550.h"
#include "mmu/mmu.h"
#include "mmu/spte.h"
#include "vmm/guest_ram.h"
#include "vmx/ept.h"

#define VM_MAX_MEMSLOTS		8
#define VM_NAME_MAX		32
_Static_assert(VM_MAX_MEMSLOTS <= GFN_RMAP_MAX_SLOTS, "every memslot has gfn rmaps");
_Static_assert(VM_MAX_MEMSLOTS <= MMU_MAX_MEMSLOTS, "slot ids are the MMU's");

/* Memslots a guest adds with HC_MEMSLOT_ADD: at most this big each, and this much in all. */
#define VM_GUEST_SLOT_MAX_BYTES	(16ull << 20)
#define VM_GUEST_SLOTS_MAX_BYTES	(64ull << 20)

/* Results of the memslot calls (the hypercall results of docs/guests.md). */
#define VM_EPERM	(-1)
#define VM_ENOMEM	(-12)
#define VM_EINVAL	(-22)
#define VM_ENOSPC	(-28)

/*
 * Guest-physical [base_gfn, base_gfn + npages) backed by host-contiguous
 * pages at host_pa, which the VM owns (freed with the slot).  Slot 0 is the
 * guest's main RAM and never changes.  Used slots never overlap.
 */
struct memslot {
	uint64_t base_gfn;
	uint64_t npages;
	uint64_t host_pa;
	bool used;
};

struct vm_stats {
	uint64_t exits;
	uint64_t exits_by_reason[80];	/* EXIT_REASON_MAX (vmx/exits.h) */
	uint64_t io_exits, io_string_elements;
	uint64_t hypercalls;
	uint64_t page_faults;		/* #PF exits (mmu=shadow) */
	uint64_t emulated;		/* instructions the VMM emulated for a #PF */
	uint64_t emulation_failed;	/* ... and could not: the table was unprotected instead */
};

struct vcpu;

struct vm {
	char name[VM_NAME_MAX];
	struct memslot memslots[VM_MAX_MEMSLOTS];
	/*
	 * mmu/spte.h's generation rules: starts at MEMSLOT_GEN_INITIAL, has
	 * MEMSLOT_GEN_UPDATE_IN_PROGRESS set while a memslot change is being
	 * made, and goes up by one with each completed change.
	 */
	uint64_t memslot_generation;
	uint64_t guest_slot_bytes;	/* RAM the guest added by hypercall, now */
	unsigned maxphyaddr;		/* guest-physical addresses are below 2^maxphyaddr */
	struct guest_ram ram;		/* memslot 0: RAM from guest-physical 0 */
	struct ept ept;			/* mmu=ept */
	struct mmu mmu;			/* shadow tables (mmu=shadow); the guest walker in both modes */

	struct io_bus io;
	struct uart16550 uart;
	struct debug_exit debug_exit;
	struct post_port post;
	struct pic pic;
	struct pit pit;
	/* The VM clock (vmx/interrupts.c): host TSC + clock_skip, the time skipped while halted (halted_cycles in all). */
	uint64_t clock_skip, halted_cycles;
	struct pm_timer pm_timer;	/* ACPI PM timer, port 0x608 (the FADT's PM_TMR_BLK) */
	struct mmio_bus mmio;
	struct mmio_testdev testdev;
	struct fw_cfg fw_cfg;		/* ports 0x510-0x511 */
	struct pci_host pci;		/* ports 0xcf8-0xcff, an empty bus */
	struct pc_testdev pc_testdev;	/* QEMU pc-testdev: ports 0xe0-0xeb, 0x2000-0x2017, MMIO 0xff000000 */
	struct lapic lapic;		/* xAPIC at 0xfee00000 on the MMIO bus (vmx/interrupts.c delivers its vectors) */
	struct ioapic ioapic;		/* at 0xfec00000: ISA IRQs and pc-testdev lines into the local APIC (vmx/interrupts.c) */
	uint64_t ioapic_dropped;	/* its messages of modes not delivered yet, or for no APIC */

	/*
	 * Host pages the shadow MMU holds now (tables, metadata, PAE roots):
	 * vmx/mmu_host.c counts every page it hands the MMU and every page
	 * the MMU gives back, so a leak shows once the MMU is destroyed.
	 */
	uint64_t mmu_host_pages;

	struct vcpu *vcpu;
	uint64_t watchdog_cycles;	/* 0: no watchdog */
	bool ended;
	int status;			/* valid once ended */
	struct vm_stats stats;
};

/*
 * Creates a VM with ram_bytes of RAM at guest-physical 0 and the standard
 * devices, for guests that see maxphyaddr physical-address bits; its shadow
 * MMU holds at most mmu_pages shadow pages (0: KVM's 20 per 1000 guest
 * pages, at least 256).  Exits the run when memory is short.
 */
struct vm *vm_create(const char *name, uint64_t ram_bytes, unsigned maxphyaddr, uint64_t mmu_pages);

/*
 * Frees the VM and everything it owns (the vCPU must be gone).  Returns the
 * host pages the shadow MMU still held after mmu_destroy(): 0, or a leak
 * (those pages are lost to the allocator).
 */
uint64_t vm_destroy(struct vm *vm);

/* Ends the guest with a status and a one-line reason on the console; the first end wins. */
void vm_end(struct vm *vm, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Host pointer for [gpa, gpa + len) when it lies wholly in one RAM memslot, else NULL. */
void *vm_gpa_to_host(struct vm *vm, uint64_t gpa, uint64_t len);

/* Guest console output (UART lines, HC_PUTS text), prefixed with the guest's name. */
void vm_console_write(struct vm *vm, const char *text, uint64_t len);

/* The guest asked to end with value v (isa-debug-exit or HC_EXIT): status (v << 1) | 1. */
void vm_guest_exit(struct vm *vm, uint32_t v);

/*
 * The memslot changes a guest asks for by hypercall, each one memslot
 * change under the generation rules (mmu/spte.h): the EPT and the shadow
 * MMU drop what mapped a removed or moved slot, and every MMIO spte goes
 * stale.  Every argument is checked, so a hostile guest gets an error,
 * never VMM memory.
 *
 * vm_memslot_create: zeroed RAM at [gpa, gpa + bytes); bytes a nonzero
 * multiple of 4 KiB, at most VM_GUEST_SLOT_MAX_BYTES; returns the slot id
 * (> 0), VM_EINVAL (misaligned, beyond MAXPHYADDR, overlapping a memslot),
 * VM_ENOSPC (no free slot) or VM_ENOMEM (past VM_GUEST_SLOTS_MAX_BYTES in
 * all, or the host has no room).
 * vm_memslot_delete / vm_memslot_move: 0, VM_EPERM for slot 0, VM_EINVAL
 * for no such slot (or, moving, a bad new gpa as above); a move keeps the
 * contents; VM_ENOMEM when the host has no EPT table for the new place.
 */
int vm_memslot_create(struct vm *vm, uint64_t gpa, uint64_t bytes);
int vm_memslot_delete(struct vm *vm, uint64_t id);
int vm_memslot_move(struct vm *vm, uint64_t id, uint64_t new_gpa);

/* Moves the MMIO test device to base (4 KiB-aligned, below MAXPHYADDR): 0 or VM_EINVAL.  Not a memslot change. */
int vm_testdev_move(struct vm *vm, uint64_t base);

/* The memslot holding gfn, or NULL. */
const struct memslot *vm_memslot_of(const struct vm *vm, uint64_t gfn);

#endif
