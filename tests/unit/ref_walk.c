/* The reference walker: SDM vol. 3 sections 4.3-4.8 spelled out one mode and one rule at a time, favouring obviousness over speed. */
#include <string.h>
#include "tests/unit/ref_walk.h"

/* Bits lo..hi inclusive; empty when lo > hi. */
static uint64_t bits(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return 0;
	return (hi == 63 ? ~0ull : (1ull << (hi + 1)) - 1) & ~((1ull << lo) - 1);
}

static bool read_entry(const struct ref_mem *mem, uint64_t gpa, unsigned size, uint64_t *entry)
{
	void *p = mem->ptr(mem->ctx, gpa, size);

	if (!p)
		return false;
	*entry = 0;
	memcpy(entry, p, size);
	return true;
}

static void set_entry_bits(const struct ref_mem *mem, uint64_t gpa, unsigned size, uint64_t set)
{
	uint64_t entry;

	read_entry(mem, gpa, size, &entry);
	entry |= set;
	memcpy(mem->ptr(mem->ctx, gpa, size), &entry, size);
}

/* One mode's geometry: entry size, index width and the linear-address bit where level 1's index starts. */
struct geometry {
	unsigned entry_size;
	unsigned index_bits;
};

static unsigned index_of(const struct geometry *g, uint64_t gva, unsigned level)
{
	return (gva >> (12 + g->index_bits * (level - 1))) & ((1u << g->index_bits) - 1);
}

/* Reserved bits of a present entry (SDM 4.3, 4.4.2, 4.5.4); large says whether PS makes it map a page. */
static uint64_t reserved_mask(enum guest_paging_mode mode, const struct guest_paging *p, unsigned level, bool large)
{
	bool nxe = p->efer & PG_EFER_NXE;
	unsigned m = p->maxphyaddr;
	uint64_t rsvd = 0;

	if (mode == PAGING_32) {
		/* PSE-36: bits 20:13 hold address bits 39:32 of a 4 MiB page, as far as MAXPHYADDR (at most 40) goes. */
		unsigned m40 = m < 40 ? m : 40;

		return large ? bits(m40 - 19, 21) : 0;
	}
	if (!nxe)
		rsvd |= 1ull << 63;
	if (mode == PAGING_PAE) {
		rsvd |= bits(m, 62);
		if (large)
			rsvd |= bits(13, 20);
		return rsvd;
	}
	rsvd |= bits(m, 51);
	if (level == 4)
		rsvd |= GPTE_LARGE;
	if (level == 3 && !p->gbpages)
		rsvd |= GPTE_LARGE;
	if (level == 3 && large)
		rsvd |= bits(13, 29);
	if (level == 2 && large)
		rsvd |= bits(13, 20);
	return rsvd;
}

static bool maps_page(enum guest_paging_mode mode, const struct guest_paging *p, unsigned level, uint64_t entry)
{
	if (level == 1)
		return true;
	if (!(entry & GPTE_LARGE))
		return false;
	if (mode == PAGING_32)
		return p->cr4 & PG_CR4_PSE;
	if (mode == PAGING_PAE)
		return level == 2;
	return level == 2 || (level == 3 && p->gbpages);
}

/* The physical address an entry points at: next table, or page frame when it maps a page of 2^page_shift bytes. */
static uint64_t entry_address(enum guest_paging_mode mode, unsigned maxphyaddr, uint64_t entry, unsigned page_shift)
{
	if (mode == PAGING_32) {
		if (page_shift == 22)
			return (entry & 0xffc00000ull) | (((entry >> 13) & 0xff) << 32);
		return entry & 0xfffff000ull;
	}
	return entry & bits(page_shift, maxphyaddr - 1);
}

/* SDM 4.6: may this access use a translation with these combined rights? */
static bool access_allowed(const struct guest_paging *p, unsigned access, bool writable, bool user_page, bool exec_disabled)
{
	bool supervisor = !(access & WALK_USER);
	bool wp = p->cr0 & PG_CR0_WP;
	bool smep = p->cr4 & PG_CR4_SMEP;
	bool smap_blocks = (p->cr4 & PG_CR4_SMAP) && !(access & WALK_SMAP_AC);

	if (access & WALK_FETCH) {
		if (exec_disabled)
			return false;
		if (supervisor)
			return !(user_page && smep);
		return user_page;
	}
	if (!supervisor) {
		if (!user_page)
			return false;
		return !(access & WALK_WRITE) || writable;
	}
	if (user_page && smap_blocks)
		return false;
	if (access & WALK_WRITE)
		return writable || !wp;
	return true;
}

void ref_walk(const struct ref_mem *mem, const struct guest_paging *p, uint64_t gva, unsigned access,
	      struct ref_result *r)
{
	enum guest_paging_mode mode = guest_paging_mode(p);
	bool nx_in_use = mode != PAGING_32 && (p->efer & PG_EFER_NXE);
	struct geometry g = { mode == PAGING_32 ? 4 : 8, mode == PAGING_32 ? 10 : 9 };
	uint32_t ec = access & (PFERR_WRITE | PFERR_USER);
	bool writable = true, user_page = true, exec_disabled = false;
	unsigned level, page_shift, i;
	uint64_t table, entry = 0;

	memset(r, 0, sizeof(*r));
	/* The I/D bit is reported only when instruction fetches can be refused by paging (SDM 4.7). */
	if ((access & WALK_FETCH) && (nx_in_use || (p->cr4 & PG_CR4_SMEP)))
		ec |= PFERR_FETCH;

	switch (mode) {
	case PAGING_OFF:
		r->gpa = gva & 0xffffffffull;
		return;
	case PAGING_32:
		gva &= 0xffffffffull;
		table = p->cr3 & 0xfffff000ull;
		level = 2;
		break;
	case PAGING_PAE: {
		uint64_t pdpte = p->pdptes[(gva >> 30) & 3];

		gva &= 0xffffffffull;
		if (!(pdpte & GPTE_PRESENT)) {
			r->fault = true;
			r->error_code = ec;
			return;
		}
		table = pdpte & bits(12, p->maxphyaddr - 1);
		level = 2;
		break;
	}
	default:
		table = p->cr3 & bits(12, p->maxphyaddr - 1);
		level = 4;
		break;
	}

	for (;; level--) {
		uint64_t entry_gpa = table + (uint64_t)index_of(&g, gva, level) * g.entry_size;
		bool leaf, large;

		if (!read_entry(mem, entry_gpa, g.entry_size, &entry) || !(entry & GPTE_PRESENT)) {
			r->fault = true;
			r->error_code = ec;
			return;
		}
		r->entry_gpa[r->nr_entries++] = entry_gpa;
		leaf = maps_page(mode, p, level, entry);
		large = leaf && level > 1;
		if (entry & reserved_mask(mode, p, level, large)) {
			r->fault = true;
			r->error_code = ec | PFERR_PRESENT | PFERR_RSVD;
			return;
		}
		writable = writable && (entry & GPTE_WRITABLE);
		user_page = user_page && (entry & GPTE_USER);
		exec_disabled = exec_disabled || (nx_in_use && (entry & GPTE_NX));
		if (leaf) {
			page_shift = 12 + g.index_bits * (level - 1);
			break;
		}
		table = entry_address(mode, p->maxphyaddr, entry, 12);
	}

	if (!access_allowed(p, access, writable, user_page, exec_disabled)) {
		r->fault = true;
		r->error_code = ec | PFERR_PRESENT;
		return;
	}
	r->gpa = entry_address(mode, p->maxphyaddr, entry, page_shift) | (gva & bits(0, page_shift - 1));
	for (i = 0; i < r->nr_entries; i++)
		set_entry_bits(mem, r->entry_gpa[i], g.entry_size, GPTE_ACCESSED);
	if (access & WALK_WRITE)
		set_entry_bits(mem, r->entry_gpa[r->nr_entries - 1], g.entry_size, GPTE_DIRTY);
}

bool ref_load_pdptes(const struct ref_mem *mem, uint64_t cr3, unsigned maxphyaddr, uint64_t pdptes[4])
{
	/* PDPTE register reserved bits (SDM table 4-8): 2:1, 8:5 and 63:MAXPHYADDR. */
	uint64_t rsvd = bits(1, 2) | bits(5, 8) | bits(maxphyaddr, 63);
	uint64_t base = cr3 & 0xffffffe0ull;
	unsigned i;

	for (i = 0; i < 4; i++) {
		if (!read_entry(mem, base + 8 * i, 8, &pdptes[i]))
			return false;
		if ((pdptes[i] & GPTE_PRESENT) && (pdptes[i] & rsvd))
			return false;
	}
	return true;
}
