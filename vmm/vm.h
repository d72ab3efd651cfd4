/* A VM: memslots, guest RAM, the I/O bus and its devices, and how the guest ended. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/debug_exit.h"
#include "devices/io_bus.h"
#include "devices/pic.h"
#include "devices/post_port.h"
#include "devices/uart16550.h"
#include "mmu/mmu.h"
#include "vmm/guest_ram.h"
#include "vmx/ept.h"

#define VM_MAX_MEMSLOTS		8
#define VM_NAME_MAX		32
_Static_assert(VM_MAX_MEMSLOTS <= GFN_RMAP_MAX_SLOTS, "every memslot has gfn rmaps");

/*
 * Bit 63 of the memslot generation is set while the memslots change.  The
 * MMIO work keys cached translations to the generation: a value taken while
 * bit 63 is set never equals a completed generation, so nothing cached
 * during an update outlives it.
 */
#define MEMSLOT_GENERATION_UPDATE_IN_PROGRESS (1ull << 63)

/* Guest-physical [base_gfn, base_gfn + npages) backed by host-contiguous pages at host_pa. */
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
	uint64_t memslot_generation;
	struct guest_ram ram;		/* memslot 0: RAM from guest-physical 0 */
	struct ept ept;			/* mmu=ept */
	struct mmu mmu;			/* shadow tables (mmu=shadow); the guest walker in both modes */

	struct io_bus io;
	struct uart16550 uart;
	struct debug_exit debug_exit;
	struct post_port post;
	struct pic pic;

	struct vcpu *vcpu;
	uint64_t watchdog_cycles;	/* 0: no watchdog */
	bool ended;
	int status;			/* valid once ended */
	struct vm_stats stats;
};

/*
 * Creates a VM with ram_bytes of RAM at guest-physical 0 and the standard
 * devices, for guests that see maxphyaddr physical-address bits; exits the
 * run when memory is short.
 */
struct vm *vm_create(const char *name, uint64_t ram_bytes, unsigned maxphyaddr);
void vm_destroy(struct vm *vm);

/* Ends the guest with a status and a one-line reason on the console; the first end wins. */
void vm_end(struct vm *vm, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Host pointer for [gpa, gpa + len) when it lies wholly in one RAM memslot, else NULL. */
void *vm_gpa_to_host(struct vm *vm, uint64_t gpa, uint64_t len);

/* Guest console output (UART lines, HC_PUTS text), prefixed with the guest's name. */
void vm_console_write(struct vm *vm, const char *text, uint64_t len);

/* The guest asked to end with value v (isa-debug-exit or HC_EXIT): status (v << 1) | 1. */
void vm_guest_exit(struct vm *vm, uint32_t v);

/* Adds a RAM memslot; the memslot generation is odd-bit-63 while it changes. */
int vm_memslot_add(struct vm *vm, uint64_t gpa, uint64_t bytes, uint64_t host_pa);

#endif
