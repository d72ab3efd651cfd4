/* Sanitizing the firmware memory map: a boundary sweep with no scratch memory. */
#include <stdbool.h>

#include "vmm/memmap.h"

#define MEMMAP_PAGE_SIZE 4096ull
#define MEMMAP_PAGE_MASK (MEMMAP_PAGE_SIZE - 1)

static uint64_t page_round_down(uint64_t addr)
{
	return addr & ~MEMMAP_PAGE_MASK;
}

/* Callers keep addr <= MEMMAP_END_LIMIT, so this cannot wrap. */
static uint64_t page_round_up(uint64_t addr)
{
	return (addr + MEMMAP_PAGE_MASK) & ~MEMMAP_PAGE_MASK;
}

/*
 * The byte span of a firmware region after clipping at MEMMAP_END_LIMIT;
 * false for regions that cover nothing we can represent.
 */
static bool region_span(const struct mem_region *reg, uint64_t *start,
			uint64_t *end)
{
	if (reg->length == 0 || reg->base >= MEMMAP_END_LIMIT)
		return false;
	*start = reg->base;
	if (reg->length > MEMMAP_END_LIMIT - reg->base)
		*end = MEMMAP_END_LIMIT;
	else
		*end = reg->base + reg->length;
	return true;
}

static bool region_covers(const struct mem_region *reg, uint64_t addr)
{
	uint64_t start, end;

	return region_span(reg, &start, &end) && start <= addr && addr < end;
}

/* Usable: some MEM_USABLE region covers addr and no other region does. */
static bool addr_is_usable(const struct mem_region *map, size_t count,
			   uint64_t addr)
{
	bool usable = false;

	for (size_t i = 0; i < count; i++) {
		if (!region_covers(&map[i], addr))
			continue;
		if (map[i].type != MEM_USABLE)
			return false;
		usable = true;
	}
	return usable;
}

static void lower_if_above(uint64_t *best, bool *found, uint64_t candidate,
			   uint64_t floor)
{
	if (candidate > floor && (!*found || candidate < *best)) {
		*best = candidate;
		*found = true;
	}
}

/*
 * The smallest region start or end strictly above floor.  Coverage is
 * constant between consecutive boundaries, which is what makes the sweep in
 * memmap_usable_ranges correct.
 */
static bool next_boundary(const struct mem_region *map, size_t count,
			  uint64_t floor, uint64_t *next)
{
	uint64_t best = 0;
	bool found = false;

	for (size_t i = 0; i < count; i++) {
		uint64_t start, end;

		if (!region_span(&map[i], &start, &end))
			continue;
		lower_if_above(&best, &found, start, floor);
		lower_if_above(&best, &found, end, floor);
	}
	*next = best;
	return found;
}

static bool lowest_start(const struct mem_region *map, size_t count,
			 uint64_t *lowest)
{
	uint64_t best = 0;
	bool found = false;

	for (size_t i = 0; i < count; i++) {
		uint64_t start, end;

		if (!region_span(&map[i], &start, &end))
			continue;
		if (!found || start < best) {
			best = start;
			found = true;
		}
	}
	*lowest = best;
	return found;
}

struct range_sink {
	struct phys_range *out;
	size_t out_max;
	size_t written;
	size_t dropped;
};

/*
 * Takes maximal usable byte runs in ascending order.  Two runs are always
 * separated by at least one non-usable byte, whose page both lose when
 * aligned inward, so the aligned ranges are never adjacent either.
 */
static void sink_run(struct range_sink *sink, uint64_t start, uint64_t end)
{
	start = page_round_up(start);
	end = page_round_down(end);
	if (start >= end)
		return;
	if (sink->written == sink->out_max) {
		sink->dropped++;
		return;
	}
	sink->out[sink->written].start = start;
	sink->out[sink->written].end = end;
	sink->written++;
}

size_t memmap_usable_ranges(const struct mem_region *map, size_t count,
			    struct phys_range *out, size_t out_max,
			    size_t *dropped)
{
	struct range_sink sink = { .out = out, .out_max = out_max };
	uint64_t cur, next, run_start = 0;
	bool in_run = false;

	if (lowest_start(map, count, &cur)) {
		while (next_boundary(map, count, cur, &next)) {
			bool usable = addr_is_usable(map, count, cur);

			if (usable && !in_run)
				run_start = cur;
			if (!usable && in_run)
				sink_run(&sink, run_start, cur);
			in_run = usable;
			cur = next;
		}
		/* Nothing covers the last boundary, so a run still open ends there. */
		if (in_run)
			sink_run(&sink, run_start, cur);
	}
	if (dropped)
		*dropped = sink.dropped;
	return sink.written;
}

uint64_t memmap_total_bytes(const struct phys_range *r, size_t n)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += r[i].end - r[i].start;
	return total;
}

/*
 * r[i] strictly contains [start, end): keep its lower part in place and
 * insert the upper part after it, dropping the highest range if full.
 */
static size_t split_range(struct phys_range *r, size_t n, size_t max,
			  size_t i, uint64_t start, uint64_t end)
{
	struct phys_range upper = { .start = end, .end = r[i].end };
	size_t last = n < max ? n : max - 1;

	r[i].end = start;
	if (i + 1 >= max)
		return n;
	for (size_t j = last; j > i + 1; j--)
		r[j] = r[j - 1];
	r[i + 1] = upper;
	return last + 1;
}

static bool overlaps(const struct phys_range *r, uint64_t start, uint64_t end)
{
	return r->start < end && start < r->end;
}

size_t memmap_subtract(struct phys_range *r, size_t n, size_t max,
		       uint64_t start, uint64_t end)
{
	size_t kept = 0;

	start = page_round_down(start);
	end = end > MEMMAP_END_LIMIT ? MEMMAP_END_LIMIT : page_round_up(end);
	if (start >= end)
		return n;
	for (size_t i = 0; i < n; i++)
		if (r[i].start < start && r[i].end > end)
			return split_range(r, n, max, i, start, end);
	/* No split: every range keeps at most one piece, so compact in place. */
	for (size_t i = 0; i < n; i++) {
		struct phys_range piece = r[i];

		if (overlaps(&piece, start, end)) {
			if (piece.start < start)
				piece.end = start;
			else if (piece.end > end)
				piece.start = end;
			else
				continue;
		}
		r[kept++] = piece;
	}
	return kept;
}

const char *mem_type_name(uint32_t type)
{
	switch (type) {
	case MEM_USABLE:
		return "usable";
	case MEM_RESERVED:
		return "reserved";
	case MEM_ACPI_RECLAIMABLE:
		return "acpi-reclaimable";
	case MEM_ACPI_NVS:
		return "acpi-nvs";
	case MEM_BAD:
		return "bad";
	default:
		return "unknown";
	}
}
