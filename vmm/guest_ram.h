/* Guest-physical RAM [0, size) as one host-contiguous block: host[gpa] is guest byte gpa. */
#ifndef VMM_GUEST_RAM_H
#define VMM_GUEST_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Invariant: host points to size bytes the VMM owns (host may be NULL only
 * when size is 0), so size never exceeds what a host pointer can address.
 */
struct guest_ram {
	uint8_t *host;
	uint64_t size;
};

/*
 * True when [gpa, gpa + len) lies inside guest RAM.  Written so that no sum
 * can wrap: a huge gpa or len is simply outside.  An empty range is inside
 * when gpa <= size.
 */
static inline bool guest_ram_contains(const struct guest_ram *r, uint64_t gpa, uint64_t len)
{
	return gpa <= r->size && len <= r->size - gpa;
}

/* The host address of guest byte gpa, or NULL when gpa is not guest RAM. */
static inline void *guest_ram_ptr(const struct guest_ram *r, uint64_t gpa)
{
	if (gpa >= r->size)
		return NULL;
	return r->host + (size_t)gpa;
}

#endif
