/* Guest writes to its own shadowed page tables: the emulated store, the sptes it invalidates, write flooding. */
#include "mmu/mmu.h"
#include "mmu/mmu_hooks.h"
#include "mmu/shadow_page.h"
#include "mmu/spte.h"

/* A table written this many times without a fault using it in between is probably no longer a table. */
#define WRITE_FLOODING_LIMIT	3

static unsigned gpte_size(const struct shadow_page *sp)
{
	return sp->role.has_4_byte_gpte ? 4 : 8;
}

/*
 * A write that covers part of a gpte only, or more than one, or is shorter
 * than 4 bytes, is not how a kernel updates an entry: the page is more
 * likely data than a table, and the sptes are cheaper to rebuild than to patch.
 */
static bool write_misaligned(const struct shadow_page *sp, unsigned offset, unsigned len)
{
	unsigned size = gpte_size(sp);

	if (len < 4)
		return true;
	return ((offset ^ (offset + len - 1)) & ~(size - 1)) != 0;
}

/*
 * The sptes of sp built from guest entry index `gpte` ([first, first + *count)).
 * 32-bit tables have 1024 entries shadowed by several pages (quadrants),
 * and a 32-bit PDE covers 4 MiB, two PAE PDEs' worth.
 */
static bool sptes_of_gpte(const struct shadow_page *sp, unsigned gpte, unsigned *first, unsigned *count)
{
	if (!sp->role.has_4_byte_gpte) {
		*first = gpte;
		*count = 1;
		return true;
	}
	if (sp->role.level == 1) {
		if (gpte / SPTES_PER_PAGE != sp->role.quadrant)
			return false;
		*first = gpte % SPTES_PER_PAGE;
		*count = 1;
		return true;
	}
	if (gpte / (SPTES_PER_PAGE / 2) != sp->role.quadrant)
		return false;
	*first = (gpte % (SPTES_PER_PAGE / 2)) * 2;
	*count = 2;
	return true;
}

static bool zap_written_sptes(struct mmu *mmu, struct shadow_page *sp, unsigned offset, unsigned len)
{
	unsigned size = gpte_size(sp), gpte, first, count, i;
	bool zapped = false;

	for (gpte = offset / size; gpte <= (offset + len - 1) / size; gpte++) {
		if (!sptes_of_gpte(sp, gpte, &first, &count))
			continue;
		for (i = first; i < first + count; i++) {
			/* No TLB holds an MMIO spte (its reserved bit faults every walk): dropping one needs no flush. */
			zapped |= spte_present(sp->spt[i]) && !is_shadow_mmio_spte(sp->spt[i]);
			sp_zap_spte(mmu, sp, i);
		}
	}
	return zapped;
}

bool mmu_emulated_write(struct mmu_vcpu *v, uint64_t gpa, const void *data, unsigned len)
{
	struct mmu *mmu = v->mmu;
	uint64_t gfn = gpa >> 12;
	unsigned offset = gpa & 0xfff;
	void *dst = mmu_host_guest_ptr(mmu, gpa, len);
	struct shadow_page *sp, *next;
	bool flush = false;

	if (!dst || len == 0)
		return false;
	/* sp_zap() frees only the page it zaps, so the saved next page stays valid. */
	for (sp = sp_first_of_gfn(mmu, gfn); sp; sp = next) {
		next = sp_next_of_gfn(mmu, sp, gfn);
		if (sp->role.direct)
			continue;
		if (write_misaligned(sp, offset, len) ||
		    ++sp->write_flooding_count >= WRITE_FLOODING_LIMIT) {
			sp_zap(mmu, sp);
			mmu->stats.mmu_flooded++;
			continue;
		}
		flush |= zap_written_sptes(mmu, sp, offset, len);
	}
	__builtin_memcpy(dst, data, len);
	mmu->stats.mmu_pte_write++;
	if (flush)
		mmu_request_all(mmu, MMU_REQ_TLB_FLUSH);
	return true;
}

void mmu_unprotect_gfn(struct mmu *mmu, uint64_t gfn)
{
	struct shadow_page *sp, *next;

	for (sp = sp_first_of_gfn(mmu, gfn); sp; sp = next) {
		next = sp_next_of_gfn(mmu, sp, gfn);
		if (!sp->role.direct)
			sp_zap(mmu, sp);
	}
}
