/* The guest page walker: SDM vol. 3 sections 4.3-4.8, one function per step of a walk. */
#include "mmu/guest_walk.h"
#include "mmu/mmu_hooks.h"

/*
 * Entry bits 51:12: the next table or the page.  Safe in every mode once the
 * reserved bits of the entry were checked: 32-bit entries have no bits above
 * 31, and PAE and 4-level entries have none set at or above MAXPHYADDR.
 */
#define ENTRY_ADDR_MASK		0x000ffffffffff000ull
#define PAE_PDPT_MASK		0xffffffe0ull	/* CR3 bits 31:5 under PAE paging */
#define CR3_32_MASK		0xfffff000ull
#define PSE_4M_BASE_MASK	0xffc00000ull

/* Bits hi:lo (none when lo = hi + 1). */
static uint64_t bit_range(unsigned hi, unsigned lo)
{
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

/* What one walk needs from the paging state, worked out once. */
struct walk_ctx {
	struct mmu *mmu;
	const struct guest_paging *p;
	enum guest_paging_mode mode;
	uint64_t gva;		/* 32-bit modes use bits 31:0 only: the index and offset masks see to it */
	unsigned access;
	bool nx;		/* XD bits are defined: EFER.NXE under PAE or 4-level paging */
	unsigned entry_size;	/* 4 or 8 bytes */
};

static unsigned top_level(enum guest_paging_mode mode)
{
	return mode == PAGING_32 ? 2 : mode == PAGING_PAE ? 3 : 4;
}

/* The lowest linear-address bit the entry at this level translates. */
static unsigned level_shift(const struct walk_ctx *c, unsigned level)
{
	return 12 + (c->mode == PAGING_32 ? 10 : 9) * (level - 1);
}

static unsigned entry_index(const struct walk_ctx *c, unsigned level)
{
	unsigned index_bits = c->mode == PAGING_32 ? 10 : 9;

	if (c->mode == PAGING_PAE && level == 3)
		index_bits = 2;
	return (c->gva >> level_shift(c, level)) & ((1u << index_bits) - 1);
}

static uint64_t top_table(const struct walk_ctx *c)
{
	switch (c->mode) {
	case PAGING_32:
		return c->p->cr3 & CR3_32_MASK;
	case PAGING_PAE:
		return c->p->cr3 & PAE_PDPT_MASK;
	default:
		return c->p->cr3 & bit_range(c->p->maxphyaddr - 1, 12);
	}
}

/* SDM 4.4.1: bits 2:1, 8:5 and 63:MAXPHYADDR of a present PDPTE. */
static uint64_t pae_pdpte_reserved_bits(unsigned maxphyaddr)
{
	return bit_range(2, 1) | bit_range(8, 5) | bit_range(63, maxphyaddr);
}

/*
 * A 4 MiB PDE holds physical-address bits (M-1):32 in bits (M-20):13, M being
 * MAXPHYADDR capped at 40 (PSE-36, SDM table 4-4); the rest of 21:13 is reserved.
 */
static unsigned pse36_maxphyaddr(unsigned maxphyaddr)
{
	return maxphyaddr > 40 ? 40 : maxphyaddr < 32 ? 32 : maxphyaddr;
}

static uint64_t pse_4m_reserved_bits(unsigned maxphyaddr)
{
	return bit_range(21, pse36_maxphyaddr(maxphyaddr) - 19);
}

/*
 * The bits of a present entry that must be 0 (SDM tables 4-4 to 4-20).  PS
 * where a level cannot map a page is among them, so a set PS bit that passed
 * this check always means a large page (see is_leaf()).
 */
static uint64_t reserved_bits(const struct walk_ctx *c, unsigned level, uint64_t entry)
{
	unsigned m = c->p->maxphyaddr;
	bool ps = entry & GPTE_LARGE;
	uint64_t xd = c->nx ? 0 : GPTE_NX;

	switch (c->mode) {
	case PAGING_32:
		/* Without CR4.PSE the PS bit is ignored and the PDE references a page table. */
		if (level == 2 && ps && (c->p->cr4 & PG_CR4_PSE))
			return pse_4m_reserved_bits(m);
		return 0;
	case PAGING_PAE:
		if (level == 3)
			return pae_pdpte_reserved_bits(m);
		/* Unlike 4-level paging, PAE reserves 62:52 too. */
		return xd | bit_range(62, m) | (level == 2 && ps ? bit_range(20, 13) : 0);
	default: {
		uint64_t rsvd = xd | paging_rsvd_phys_bits(m);

		if (level == 4)
			rsvd |= GPTE_LARGE;
		else if (level == 3 && ps)
			rsvd |= c->p->gbpages ? bit_range(29, 13) : GPTE_LARGE;
		else if (level == 2 && ps)
			rsvd |= bit_range(20, 13);
		return rsvd;
	}
	}
}

/* Called only on an entry without reserved bits: a PS bit that survived reserved_bits() maps a page. */
static bool is_leaf(const struct walk_ctx *c, unsigned level, uint64_t entry)
{
	if (level == 1)
		return true;
	if (!(entry & GPTE_LARGE))
		return false;
	return c->mode != PAGING_32 || (c->p->cr4 & PG_CR4_PSE);
}

/* What one entry allows; the PAE PDPTE registers have no R/W, U/S or XD bits. */
static unsigned entry_access(const struct walk_ctx *c, unsigned level, uint64_t entry)
{
	unsigned acc = 0;

	if (c->mode == PAGING_PAE && level == 3)
		return ACC_ALL;
	if (entry & GPTE_WRITABLE)
		acc |= ACC_WRITE;
	if (entry & GPTE_USER)
		acc |= ACC_USER;
	if (!(c->nx && (entry & GPTE_NX)))
		acc |= ACC_EXEC;
	return acc;
}

/*
 * SDM 4.6.1 for the combined access of the translation.  A user-mode address
 * is one with U/S = 1 at every level, i.e. ACC_USER in the combination.
 */
static bool permission_fault(const struct walk_ctx *c, unsigned acc)
{
	bool write = c->access & WALK_WRITE, fetch = c->access & WALK_FETCH;
	bool user_page = acc & ACC_USER;

	if (fetch && !(acc & ACC_EXEC))
		return true;
	if (c->access & WALK_USER)
		return !user_page || (write && !(acc & ACC_WRITE));
	if (fetch)
		return user_page && (c->p->cr4 & PG_CR4_SMEP);
	/*
	 * Supervisor data access.  SMAP forbids user pages to implicit accesses
	 * and to explicit ones with EFLAGS.AC = 0, whatever CR0.WP says; with
	 * AC = 1 (or no SMAP) the write then follows CR0.WP like any other.
	 */
	if (user_page && (c->p->cr4 & PG_CR4_SMAP) && !(c->access & WALK_SMAP_AC))
		return true;
	return write && (c->p->cr0 & PG_CR0_WP) && !(acc & ACC_WRITE);
}

static void set_fault(const struct walk_ctx *c, struct guest_walk *w, uint32_t cause)
{
	bool fetch_reported = c->nx || (c->p->cr4 & PG_CR4_SMEP);

	w->fault = true;
	w->error_code = cause | (c->access & (WALK_WRITE | WALK_USER));
	if ((c->access & WALK_FETCH) && fetch_reported)
		w->error_code |= PFERR_FETCH;
}

static uint64_t load_entry(const void *ptr, unsigned size)
{
	if (size == 4)
		return __atomic_load_n((const uint32_t *)ptr, __ATOMIC_ACQUIRE);
	return __atomic_load_n((const uint64_t *)ptr, __ATOMIC_ACQUIRE);
}

/*
 * Reads the entry for this level into w.  NULL when its table is not guest
 * RAM: the walk then treats it as a not-present entry (value 0), because the
 * CPU would read whatever the bus returns and the guest can do nothing
 * sensible with such a table; a #PF with P = 0 is the least surprising end.
 * Entries are naturally aligned in guest memory, so in the host mapping too.
 */
static void *read_entry(const struct walk_ctx *c, uint64_t table, unsigned level,
			struct guest_walk *w)
{
	uint64_t gpa = table + (uint64_t)entry_index(c, level) * c->entry_size;
	void *ptr;

	w->table_gfn[level] = table >> 12;
	w->gpte_gpa[level] = gpa;
	ptr = mmu_host_guest_ptr(c->mmu, gpa, c->entry_size);
	w->gpte[level] = ptr ? load_entry(ptr, c->entry_size) : 0;
	return ptr;
}

static void read_pdpte_register(const struct walk_ctx *c, struct guest_walk *w)
{
	w->table_gfn[3] = top_table(c) >> 12;
	w->gpte_gpa[3] = ~0ull;
	w->gpte[3] = c->p->pdptes[entry_index(c, 3)];
}

static uint64_t leaf_gpa(const struct walk_ctx *c, unsigned level, uint64_t entry)
{
	uint64_t offset_mask = (1ull << level_shift(c, level)) - 1;

	if (c->mode == PAGING_32 && level == 2)
		return (entry & PSE_4M_BASE_MASK) | (((entry >> 13) & 0xff) << 32) |
		       (c->gva & offset_mask);
	return (entry & ENTRY_ADDR_MASK & ~offset_mask) | (c->gva & offset_mask);
}

/* Replaces *ptr with want if it still holds old; false when the guest changed it meanwhile. */
static bool update_entry(void *ptr, unsigned size, uint64_t old, uint64_t want)
{
	if (size == 4) {
		uint32_t expected = old;

		return __atomic_compare_exchange_n((uint32_t *)ptr, &expected, (uint32_t)want, false,
						   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	}
	return __atomic_compare_exchange_n((uint64_t *)ptr, &old, want, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

/*
 * Sets A in every entry the walk used and D in the leaf of a write, top down
 * as the CPU does, writing only entries that lack them.  This runs only
 * after the walk succeeded, as in KVM: the SDM (4.8) ties the flags to
 * entries used for a translation and a guest cannot rely on A being set by
 * a walk that faults, so a faulting walk writes nothing.  False when an
 * entry changed since it was read: the caller walks again, so D and A are
 * never set on an entry the guest rewrote meanwhile (the A flags already set
 * above it stay: those entries were used).
 */
static bool set_accessed_dirty(const struct walk_ctx *c, void *const ptrs[], struct guest_walk *w)
{
	unsigned level;

	for (level = w->max_level; level >= w->level; level--) {
		uint64_t want = w->gpte[level] | GPTE_ACCESSED;

		if (!ptrs[level])	/* a PAE PDPTE register: no A bit, not in memory */
			continue;
		if (level == w->level && (c->access & WALK_WRITE))
			want |= GPTE_DIRTY;
		if (want == w->gpte[level])
			continue;
		if (!update_entry(ptrs[level], c->entry_size, w->gpte[level], want))
			return false;
		w->gpte[level] = want;
	}
	return true;
}

/* One walk from the top; false when setting A/D lost a race with a guest write to an entry. */
static bool walk_once(const struct walk_ctx *c, struct guest_walk *w)
{
	void *ptrs[WALK_MAX_LEVEL + 1] = { 0 };
	uint64_t table = top_table(c);
	unsigned acc = ACC_ALL;
	unsigned level;

	__builtin_memset(w, 0, sizeof(*w));
	w->max_level = top_level(c->mode);
	for (level = w->max_level;; level--) {
		uint64_t entry;

		w->level = level;
		if (c->mode == PAGING_PAE && level == 3)
			read_pdpte_register(c, w);
		else
			ptrs[level] = read_entry(c, table, level, w);
		entry = w->gpte[level];
		acc &= entry_access(c, level, entry);
		w->pt_access[level] = acc;
		w->pte_access = acc;
		if (!(entry & GPTE_PRESENT)) {
			set_fault(c, w, 0);
			return true;
		}
		if (entry & reserved_bits(c, level, entry)) {
			set_fault(c, w, PFERR_PRESENT | PFERR_RSVD);
			return true;
		}
		if (is_leaf(c, level, entry))
			break;
		table = entry & ENTRY_ADDR_MASK;
	}
	w->large = level > 1;
	w->gpa = leaf_gpa(c, level, w->gpte[level]);
	w->gfn = w->gpa >> 12;
	if (permission_fault(c, acc)) {
		set_fault(c, w, PFERR_PRESENT);
		return true;
	}
	return set_accessed_dirty(c, ptrs, w);
}

/*
 * The caller handles what is not a #PF: a non-canonical gva (#GP) is walked
 * with its bits 63:48 ignored.  A walk is retried until its A/D update wins;
 * every lost race means another writer made progress on the guest's tables.
 */
void guest_walk(struct mmu *mmu, const struct guest_paging *p, uint64_t gva, unsigned access,
		struct guest_walk *w)
{
	struct walk_ctx c = {
		.mmu = mmu,
		.p = p,
		.mode = guest_paging_mode(p),
		.gva = gva,
		.access = access,
	};

	if (c.mode == PAGING_OFF) {
		/* No tables: max_level = level = 0 and the translation allows everything. */
		__builtin_memset(w, 0, sizeof(*w));
		w->gpa = gva & 0xffffffffull;
		w->gfn = w->gpa >> 12;
		w->pt_access[0] = ACC_ALL;
		w->pte_access = ACC_ALL;
		return;
	}
	c.nx = c.mode != PAGING_32 && (p->efer & PG_EFER_NXE);
	c.entry_size = c.mode == PAGING_32 ? 4 : 8;
	while (!walk_once(&c, w))
		;
}

/* The registers change only if all four PDPTEs are valid: a failed load leaves pdptes alone. */
bool guest_load_pae_pdptes(struct mmu *mmu, uint64_t cr3, unsigned maxphyaddr, uint64_t pdptes[4])
{
	const uint64_t *pdpt = mmu_host_guest_ptr(mmu, cr3 & PAE_PDPT_MASK, 4 * sizeof(uint64_t));
	uint64_t loaded[4];
	unsigned i;

	if (!pdpt)
		return false;
	for (i = 0; i < 4; i++) {
		loaded[i] = __atomic_load_n(&pdpt[i], __ATOMIC_ACQUIRE);
		if ((loaded[i] & GPTE_PRESENT) && (loaded[i] & pae_pdpte_reserved_bits(maxphyaddr)))
			return false;
	}
	for (i = 0; i < 4; i++)
		pdptes[i] = loaded[i];
	return true;
}
