/* Sanitizing the firmware (E820 / multiboot) memory map into usable page ranges. */
#ifndef VMM_MEMMAP_H
#define VMM_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

/* E820 / multiboot numbering; any other value counts as reserved. */
enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIMABLE = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

/* One firmware map entry, as reported: unsorted, possibly overlapping. */
struct mem_region {
	uint64_t base;
	uint64_t length;
	uint32_t type;
};

/* [start, end): end is exclusive. */
struct phys_range {
	uint64_t start;
	uint64_t end;
};

/*
 * The highest end any range can have.  2^64 itself is not representable, so
 * a region whose base + length reaches or passes 2^64 is clipped here; the
 * page above can never be usable anyway, since its end does not fit.
 */
#define MEMMAP_END_LIMIT (UINT64_MAX - 4096 + 1)

/*
 * Writes the usable RAM described by map to out and returns how many ranges
 * it wrote (at most out_max).  The ranges are sorted, non-overlapping, never
 * adjacent (adjacent pieces are merged) and page aligned: each start is
 * rounded up and each end rounded down to 4 KiB, and ranges that become
 * empty are dropped.
 *
 * A byte is usable when some MEM_USABLE region covers it and no region of
 * any other type does: firmware maps overlap, and the non-usable claim wins.
 * Only MEM_USABLE counts as usable (ACPI-reclaimable memory stays reserved).
 * Zero-length regions are ignored; ends past 2^64 are clipped at
 * MEMMAP_END_LIMIT, and regions starting at or above it are ignored.
 *
 * If more than out_max ranges result, the lowest out_max are kept and the
 * number left out is stored to *dropped; otherwise *dropped is set to 0.
 * dropped may be NULL when the caller does not care.
 *
 * Needs no scratch memory; takes O(count^2) time, which is fine for
 * firmware maps of a few hundred entries.
 */
size_t memmap_usable_ranges(const struct mem_region *map, size_t count,
			    struct phys_range *out, size_t out_max,
			    size_t *dropped);

/* Sum of the lengths of n non-overlapping ranges. */
uint64_t memmap_total_bytes(const struct phys_range *r, size_t n);

/*
 * Removes [start, end), rounded outward to 4 KiB pages, from the n sorted,
 * non-overlapping, page-aligned ranges in r (room for max >= n entries) and
 * returns the new count.  A range that strictly contains the removed span
 * is split in two, needing one more entry; if the list is already full
 * (n == max), the highest range is dropped to make room, consistent with
 * memmap_usable_ranges keeping the lowest.  Pass max > n to never lose
 * memory that way.  An empty or inverted span changes nothing.
 */
size_t memmap_subtract(struct phys_range *r, size_t n, size_t max,
		       uint64_t start, uint64_t end);

/* "usable", "reserved", "acpi-reclaimable", "acpi-nvs", "bad" or "unknown". */
const char *mem_type_name(uint32_t type);

#endif
