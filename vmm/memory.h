/* The VMM's physical memory: the sanitized map, the page allocator, the identity map. */
#ifndef VMM_MEMORY_H
#define VMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vmm/boot.h"

/* The VMM itself needs this much free RAM after boot, or it refuses to go on. */
#define VMM_MIN_FREE_BYTES	(16ull << 20)

/*
 * Takes over the handover's memory map: every usable page except low memory
 * (below 1 MiB), the VMM image and boot modules becomes allocatable, and all
 * of it is identity-mapped.  Too little memory ends the run (VMM_STATUS_NO_MEMORY).
 */
void memory_init(const struct boot_handover *handover);

/* npages zeroed, contiguous pages; running out ends the run with a line naming `what`. */
uint64_t memory_alloc_pages(size_t npages, const char *what);
/* One zeroed page (below 4 GiB if asked), or 0: for memory a guest's behaviour decides, whose lack must not end the run. */
uint64_t memory_try_alloc_page(bool below_4g);
/* npages zeroed, contiguous pages, or 0 when no such run is free: for a guest's request, whose failure must not end the run. */
uint64_t memory_try_alloc_pages(size_t npages);
void memory_free_pages(uint64_t addr, size_t npages);
uint64_t memory_free_bytes(void);

/* The VMM identity-maps all RAM: a physical address is its own virtual address. */
static inline void *phys_to_virt(uint64_t addr)
{
	return (void *)(uintptr_t)addr;
}

/* Maps [4 GiB, end) on top of the boot tables (vmm/paging.c); returns the end of what it mapped. */
uint64_t paging_map_ram_above_4g(uint64_t end);

#endif
