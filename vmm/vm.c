/* VM lifecycle: RAM and its memslot, EPT, the standard PC devices, how a guest ends. */
#include <stdarg.h>
#include "vmm/exit.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/page_alloc.h"
#include "vmm/status.h"
#include "vmm/string.h"
#include "vmm/vm.h"
#include "vmm/x86.h"

#define CPUID_80000001_EDX_NX	(1u << 20)

#define COM1_BASE		0x3f8
#define ISA_DEBUG_EXIT_BASE	0xf4	/* as QEMU's -device isa-debug-exit,iobase=0xf4,iosize=0x04 */
#define ISA_DEBUG_EXIT_PORTS	4

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
	if (io_bus_register(&vm->io, uart16550_device(&vm->uart)) ||
	    io_bus_register(&vm->io, debug_exit_device(&vm->debug_exit)) ||
	    io_bus_register(&vm->io, post_port_device(&vm->post)) ||
	    io_bus_register(&vm->io, pic_device(&vm->pic, PIC_MASTER)) ||
	    io_bus_register(&vm->io, pic_device(&vm->pic, PIC_SLAVE)))
		panic("the standard devices overlap on the I/O bus");
}

int vm_memslot_add(struct vm *vm, uint64_t gpa, uint64_t bytes, uint64_t host_pa)
{
	unsigned i;

	for (i = 0; i < VM_MAX_MEMSLOTS && vm->memslots[i].used; i++)
		;
	/* The shadow MMU keeps gfn rmaps for this many pages of a memslot and no more. */
	if (i == VM_MAX_MEMSLOTS || (gpa | bytes | host_pa) & (PAGE_SIZE - 1) || !bytes ||
	    bytes / PAGE_SIZE > MMU_MAX_MEMSLOT_PAGES)
		return -1;
	vm->memslot_generation |= MEMSLOT_GENERATION_UPDATE_IN_PROGRESS;
	vm->memslots[i] = (struct memslot){ gpa / PAGE_SIZE, bytes / PAGE_SIZE, host_pa, true };
	ept_map(&vm->ept, gpa, host_pa, bytes);
	vm->memslot_generation = (vm->memslot_generation & ~MEMSLOT_GENERATION_UPDATE_IN_PROGRESS) + 1;
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

struct vm *vm_create(const char *name, uint64_t ram_bytes, unsigned maxphyaddr)
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
	ept_init(&vm->ept);
	mmu_init(&vm->mmu, maxphyaddr, shadow_page_limit(ram_bytes));
	/* Firmware can hide NX (XD disabled); then no spte may use it. */
	vm->mmu.host_nx = cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_NX;
	if (vm_memslot_add(vm, 0, ram_bytes, ram_pa))
		panic("no memslot for guest RAM");
	attach_devices(vm);
	return vm;
}

void vm_destroy(struct vm *vm)
{
	unsigned i;

	ept_destroy(&vm->ept);
	mmu_destroy(&vm->mmu);
	for (i = 0; i < VM_MAX_MEMSLOTS; i++)
		if (vm->memslots[i].used)
			memory_free_pages(vm->memslots[i].host_pa, vm->memslots[i].npages);
	memory_free_pages((uintptr_t)vm, pages_for(sizeof(struct vm)));
}
