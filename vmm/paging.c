/* The VMM's identity map above 4 GiB (boot/entry.asm maps the first 4 GiB). */
#include <stdbool.h>
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/page_alloc.h"
#include "vmm/x86.h"

#define PTE_PRESENT	(1ull << 0)
#define PTE_WRITABLE	(1ull << 1)
#define PTE_LARGE	(1ull << 7)
#define PTE_FRAME_MASK	0x000ffffffffff000ull
#define TWO_MIB		(1ull << 21)
#define ONE_GIB		(1ull << 30)
#define FOUR_GIB	(1ull << 32)
#define CPUID_80000001_EDX_1G_PAGES (1u << 26)

extern uint64_t boot_pml4[512];

/*
 * Tables come from a static pool: the page allocator is not set up when this
 * runs.  With 1 GiB pages one table maps 512 GiB; with 2 MiB pages the pool
 * maps 60 GiB above the boot map.  RAM beyond what is mapped is not used.
 */
#define TABLE_POOL_PAGES 64
static uint64_t table_pool[TABLE_POOL_PAGES][512] __attribute__((aligned(PAGE_SIZE)));
static unsigned tables_used;

static uint64_t *next_level(uint64_t *entry)
{
	if (!(*entry & PTE_PRESENT)) {
		uint64_t *table;

		if (tables_used == TABLE_POOL_PAGES)
			return NULL;
		table = table_pool[tables_used++];
		*entry = (uint64_t)(uintptr_t)table | PTE_PRESENT | PTE_WRITABLE;
	}
	return phys_to_virt(*entry & PTE_FRAME_MASK);
}

static bool map_large_page(uint64_t addr, bool gib_pages)
{
	uint64_t *pdpt = next_level(&boot_pml4[(addr >> 39) & 511]);
	uint64_t *pd;

	if (!pdpt)
		return false;
	if (gib_pages) {
		pdpt[(addr >> 30) & 511] = addr | PTE_PRESENT | PTE_WRITABLE | PTE_LARGE;
		return true;
	}
	pd = next_level(&pdpt[(addr >> 30) & 511]);
	if (!pd)
		return false;
	pd[(addr >> 21) & 511] = addr | PTE_PRESENT | PTE_WRITABLE | PTE_LARGE;
	return true;
}

uint64_t paging_map_ram_above_4g(uint64_t end)
{
	bool gib_pages = cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_1G_PAGES;
	uint64_t step = gib_pages ? ONE_GIB : TWO_MIB;
	uint64_t addr;

	for (addr = FOUR_GIB; addr < end; addr += step) {
		if (!map_large_page(addr, gib_pages)) {
			log_warn("vmm: paging: RAM from %#lx up is not used (page-table pool exhausted)\n",
				 addr);
			break;
		}
	}
	write_cr3(read_cr3());
	log_debug("vmm: paging: identity-mapped up to %#lx with %s pages\n", addr,
		  gib_pages ? "1 GiB" : "2 MiB");
	return addr;
}
