/* memory_init(): from the firmware's map to a working page allocator. */
#include "vmm/exit.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/page_alloc.h"
#include "vmm/status.h"
#include "vmm/string.h"

#define LOW_MEMORY_END	(1ull << 20)
#define MAX_USABLE	BOOT_MAX_MEM_REGIONS
#define MAX_RESERVED	(BOOT_MAX_MODULES + 2)

static struct page_allocator allocator;

static void log_memory_map(const struct boot_handover *h)
{
	uint32_t i;

	for (i = 0; i < h->mem_region_count; i++) {
		const struct mem_region *r = &h->mem_regions[i];

		log_debug("vmm: memory: [0x%016lx-0x%016lx] %s\n", r->base,
			  r->base + r->length - 1, mem_type_name(r->type));
	}
}

static size_t collect_reserved(const struct boot_handover *h, struct phys_range *out)
{
	size_t n = 0;
	uint32_t i;

	out[n++] = (struct phys_range){ 0, LOW_MEMORY_END };
	out[n++] = (struct phys_range){ h->image_start, h->image_end };
	for (i = 0; i < h->module_count; i++)
		out[n++] = (struct phys_range){ h->modules[i].start, h->modules[i].end };
	return n;
}

static void too_little_memory(uint64_t usable, uint64_t free)
{
	log_error("vmm: error: too little memory: %lu KiB usable, %lu KiB free after the VMM, at least %llu KiB needed\n",
		  usable >> 10, free >> 10, VMM_MIN_FREE_BYTES >> 10);
	vmm_exit(VMM_STATUS_NO_MEMORY);
}

void memory_init(const struct boot_handover *h)
{
	static struct phys_range usable[MAX_USABLE];
	struct phys_range reserved[MAX_RESERVED];
	size_t nusable, nreserved, bitmap_bytes, i, dropped = 0;
	uint64_t bitmap, total, top;

	log_memory_map(h);
	nusable = memmap_usable_ranges(h->mem_regions, h->mem_region_count, usable, MAX_USABLE,
				       &dropped);
	if (dropped)
		log_warn("vmm: memory: %zu usable ranges beyond the first %d are not used\n",
			 dropped, MAX_USABLE);
	total = memmap_total_bytes(usable, nusable);
	if (!nusable)
		too_little_memory(0, 0);
	top = usable[nusable - 1].end;
	if (top > (1ull << 32)) {
		uint64_t mapped = paging_map_ram_above_4g(top);

		if (mapped < top) {
			nusable = memmap_subtract(usable, nusable, MAX_USABLE, mapped, top);
			top = mapped;
		}
	}

	nreserved = collect_reserved(h, reserved);
	bitmap_bytes = page_alloc_bitmap_bytes(usable, nusable);
	bitmap = page_alloc_place_bitmap(usable, nusable, reserved, nreserved, bitmap_bytes);
	if (!bitmap)
		too_little_memory(total, 0);
	page_alloc_init(&allocator, usable, nusable, phys_to_virt(bitmap));
	for (i = 0; i < nreserved; i++)
		page_alloc_reserve(&allocator, reserved[i].start, reserved[i].end);
	page_alloc_reserve(&allocator, bitmap, bitmap + bitmap_bytes);

	if (memory_free_bytes() < VMM_MIN_FREE_BYTES)
		too_little_memory(total, memory_free_bytes());
	log_info("vmm: memory: %lu MiB usable, %lu MiB free, highest address %#lx\n",
		 total >> 20, memory_free_bytes() >> 20, top - 1);
}

uint64_t memory_free_bytes(void)
{
	return page_alloc_free_count(&allocator) * PAGE_SIZE;
}

uint64_t memory_alloc_pages(size_t npages, const char *what)
{
	uint64_t addr = page_alloc_pages(&allocator, npages, 1);

	if (!addr) {
		log_error("vmm: error: out of memory: no %zu free contiguous pages for %s (%lu KiB free)\n",
			  npages, what, memory_free_bytes() >> 10);
		vmm_exit(VMM_STATUS_NO_MEMORY);
	}
	memset(phys_to_virt(addr), 0, npages * PAGE_SIZE);
	return addr;
}

uint64_t memory_try_alloc_pages(size_t npages)
{
	uint64_t addr = page_alloc_pages(&allocator, npages, 1);

	if (addr)
		memset(phys_to_virt(addr), 0, npages * PAGE_SIZE);
	return addr;
}

uint64_t memory_try_alloc_page(bool below_4g)
{
	uint64_t addr;

	if (!below_4g)
		return memory_try_alloc_pages(1);
	addr = page_alloc_pages_below(&allocator, 1, 1ull << 32);
	if (addr)
		memset(phys_to_virt(addr), 0, PAGE_SIZE);
	return addr;
}

void memory_free_pages(uint64_t addr, size_t npages)
{
	int err = page_free_pages(&allocator, addr, npages);

	if (err)
		panic("freeing %zu pages at %#lx failed (error %d)", npages, addr, err);
}
