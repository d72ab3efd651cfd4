/* The differential engine: builds random guest tables, generates and applies operations to the shadow MMU and to the reference walker, and compares what the guest would see. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mmu/guest_walk.h"
#include "mmu/shadow_page.h"
#include "mmu/spte.h"
#include "tests/unit/mmu_diff_engine.h"

#define PAGE_SIZE	4096ull
#define SLOT0_PAGES	2048ull		/* 8 MiB at gpa 0 */
#define SLOT1_GFN	0x1000ull	/* 2 MiB at 16 MiB: 8-16 MiB and 18 MiB up are MMIO */
#define SLOT1_PAGES	512ull
#define SLOT1		1u		/* the slot memslot updates remove and restore (its gfns turn MMIO and back) */
#define MIB		0x100000ull
#define GIB		0x40000000ull

static const char *const mode_names[4] = { "paging-off", "32-bit", "PAE", "4-level" };

#define PAGE_USED	1u	/* holds a table or a data page the builder chose */
#define PAGE_TABLE	2u	/* read as a paging structure: compared after operations */
#define PAGE_WRITTEN	4u	/* a guest data write reached it on either side */

/* ---- choices ---- */

void diff_src_seed(struct diff_src *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->rng = seed;
}

void diff_src_bytes(struct diff_src *s, const uint8_t *data, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->data = data;
	s->len = len;
}

static uint64_t splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t diff_src_below(struct diff_src *s, uint64_t n)
{
	uint64_t v = 0;
	unsigned i, nbytes;

	if (!s->data)
		return splitmix(&s->rng) % n;
	/* As few input bytes as n needs, so a fuzzer's mutation changes one decision. */
	nbytes = n <= 0x100 ? 1 : n <= 0x10000 ? 2 : n <= 0x100000000ull ? 4 : 8;
	for (i = 0; i < nbytes; i++) {
		if (s->pos == s->len) {
			s->exhausted = true;
			break;
		}
		v |= (uint64_t)s->data[s->pos++] << (8 * i);
	}
	return v % n;
}

static uint64_t below(struct diff_src *s, uint64_t n)
{
	return diff_src_below(s, n);
}

static bool chance(struct diff_src *s, unsigned percent)
{
	return below(s, 100) < percent;
}

/* ---- failure reporting ---- */

static bool fail(struct diff_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(struct diff_engine *e, const char *fmt, ...)
{
	va_list ap;
	size_t used = strlen(e->failure);

	e->failed = true;
	va_start(ap, fmt);
	vsnprintf(e->failure + used, sizeof(e->failure) - used, fmt, ap);
	va_end(ap);
	return false;
}

/* ---- geometry ---- */

static unsigned entry_size(enum guest_paging_mode mode)
{
	return mode == PAGING_32 ? 4 : 8;
}

static unsigned entries_per_table(enum guest_paging_mode mode, unsigned level)
{
	if (mode == PAGING_32)
		return 1024;
	return (mode == PAGING_PAE && level == 3) ? 4 : 512;
}

static unsigned level_shift(enum guest_paging_mode mode, unsigned level)
{
	return mode == PAGING_32 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
}

static uint64_t canonical(uint64_t gva)
{
	return (uint64_t)((int64_t)(gva << 16) >> 16);
}

static uint64_t linear_address(enum guest_paging_mode mode, uint64_t gva)
{
	return mode == PAGING_4LEVEL ? canonical(gva) : gva & 0xffffffffull;
}

static uint64_t entry_mask(enum guest_paging_mode mode)
{
	return mode == PAGING_32 ? 0xffffffffull : ~0ull;
}

/* ---- the two copies of guest RAM ---- */

/* The reference's bytes for gpa in the slot that holds it, removed or not (NULL outside every slot). */
static void *backing_ptr(struct diff_engine *e, uint64_t gpa, unsigned len, bool *removed)
{
	unsigned i;

	for (i = 0; i < e->sim->nr_slots; i++) {
		const struct sim_slot *ss = &e->sim->slots[i];
		uint64_t base = ss->base_gfn * PAGE_SIZE, size = ss->npages * PAGE_SIZE;

		if (gpa >= base && gpa - base < size && len <= size - (gpa - base)) {
			*removed = ss->removed;
			return e->ref_ram[i] + (gpa - base);
		}
	}
	return NULL;
}

/* Guest RAM as the reference sees it now: a removed slot is no RAM. */
static void *ref_ptr(void *ctx, uint64_t gpa, unsigned len)
{
	bool removed = false;
	void *p = backing_ptr(ctx, gpa, len, &removed);

	return removed ? NULL : p;
}

static bool is_ram(struct diff_engine *e, uint64_t gpa)
{
	return ref_ptr(e, gpa, 1) != NULL;
}

static uint64_t page_index_gpa(uint64_t idx)
{
	return idx < SLOT0_PAGES ? idx * PAGE_SIZE : (SLOT1_GFN + idx - SLOT0_PAGES) * PAGE_SIZE;
}

static bool gpa_page_index(const struct diff_engine *e, uint64_t gpa, uint64_t *idx)
{
	uint64_t gfn = gpa / PAGE_SIZE;

	if (gfn < SLOT0_PAGES)
		*idx = gfn;
	else if (gfn >= SLOT1_GFN && gfn < SLOT1_GFN + SLOT1_PAGES)
		*idx = SLOT0_PAGES + gfn - SLOT1_GFN;
	else
		return false;
	return *idx < e->ram_pages;
}

/* Builder only: the same bytes into both copies. */
static void put_entry(struct diff_engine *e, uint64_t gpa, unsigned size, uint64_t value)
{
	memcpy(ref_ptr(e, gpa, size), &value, size);
	memcpy(sim_guest_ptr(e->sim, gpa, size), &value, size);
}

/* Reads the reference's copy, also of a removed slot (whose contents come back with it): for the generator. */
static uint64_t ref_read(struct diff_engine *e, uint64_t gpa, unsigned size)
{
	bool removed;
	uint64_t v = 0;

	memcpy(&v, backing_ptr(e, gpa, size, &removed), size);
	return v;
}

static void mark_page(struct diff_engine *e, uint64_t gpa, unsigned flag)
{
	uint64_t idx;

	if (gpa_page_index(e, gpa, &idx))
		e->page_used[idx] |= flag;
}

static void mark_table_page(struct diff_engine *e, uint64_t gpa)
{
	mark_page(e, gpa, PAGE_TABLE);
}

static bool compare_page(struct diff_engine *e, uint64_t gpa)
{
	uint64_t page = gpa & ~(PAGE_SIZE - 1);
	const uint8_t *a = ref_ptr(e, page, PAGE_SIZE), *b = sim_guest_ptr(e->sim, page, PAGE_SIZE);
	unsigned i;

	if (!a || memcmp(a, b, PAGE_SIZE) == 0)
		return true;
	for (i = 0; i < PAGE_SIZE && a[i] == b[i]; i++)
		;
	return fail(e, "guest memory differs at gpa %#llx: reference 8 bytes %#llx, MMU side %#llx\n",
		    (unsigned long long)(page + (i & ~7u)),
		    (unsigned long long)ref_read(e, page + (i & ~7u), 8),
		    (unsigned long long)*(const uint64_t *)(b + (i & ~7u)));
}

static bool compare_table_pages(struct diff_engine *e)
{
	uint64_t i;

	for (i = 0; i < e->ram_pages; i++)
		if ((e->page_used[i] & PAGE_TABLE) && !compare_page(e, page_index_gpa(i)))
			return false;
	return true;
}

/* Pages nothing marked were never written on either side, so they cannot differ: skipping them keeps fuzzing fast. */
bool diff_check_memory(struct diff_engine *e)
{
	uint64_t i;

	for (i = 0; i < e->ram_pages; i++)
		if (e->page_used[i] && !compare_page(e, page_index_gpa(i)))
			return false;
	return true;
}

/* ---- building random guest tables ---- */

static uint64_t alloc_page(struct diff_engine *e, struct diff_src *src)
{
	uint64_t idx = below(src, e->ram_pages);
	uint64_t tries;

	for (tries = 0; tries < e->ram_pages && (e->page_used[idx] & PAGE_USED); tries++)
		idx = (idx + 1) % e->ram_pages;
	e->page_used[idx] |= PAGE_USED;
	return page_index_gpa(idx);
}

static void add_gva(struct diff_engine *e, struct diff_src *src, enum guest_paging_mode mode, uint64_t gva)
{
	unsigned *n = &e->nr_gvas[mode][e->gva_space];

	gva = linear_address(mode, gva);
	if (*n < DIFF_MAX_GVAS)
		e->gvas[mode][e->gva_space][(*n)++] = gva;
	else
		e->gvas[mode][e->gva_space][below(src, DIFF_MAX_GVAS)] = gva;
}

static struct diff_table *add_table(struct diff_engine *e, uint64_t gpa, enum guest_paging_mode mode,
				    unsigned level, uint64_t gva_base)
{
	struct diff_table *t = &e->tables[e->nr_tables++];

	memset(t, 0, sizeof(*t));
	t->gpa = gpa;
	t->mode = mode;
	t->level = level;
	t->gva_base = gva_base;
	mark_table_page(e, gpa);
	return t;
}

/* A random table of mode at level (any level when level is 0), or NULL. */
static struct diff_table *pick_table(struct diff_engine *e, struct diff_src *src, enum guest_paging_mode mode,
				     unsigned level)
{
	unsigned tries;

	if (!e->nr_tables)
		return NULL;
	for (tries = 0; tries < 32; tries++) {
		struct diff_table *t = &e->tables[below(src, e->nr_tables)];

		if (t->mode == mode && (!level || t->level == level))
			return t;
	}
	return NULL;
}

/* A frame for a 4 KiB leaf: often one of a few data pages (aliases), sometimes a table (self-maps), sometimes no RAM. */
static uint64_t leaf_frame(struct diff_engine *e, struct diff_src *src, enum guest_paging_mode mode)
{
	unsigned r = below(src, 100);

	if (r < 45)
		return e->data_pages[below(src, DIFF_DATA_PAGES)];
	if (r < 65 && e->nr_tables) {
		const struct diff_table *t = chance(src, 70) ? pick_table(e, src, mode, 0) : NULL;

		return (t ? t->gpa : e->tables[below(src, e->nr_tables)].gpa) & ~(PAGE_SIZE - 1);
	}
	if (r < 75) {
		switch (below(src, 3)) {
		case 0:
			return 8 * MIB + below(src, 2048) * PAGE_SIZE;
		case 1:
			return 18 * MIB + below(src, 4096) * PAGE_SIZE;
		default:
			if (mode == PAGING_32)
				return below(src, 1ull << 20) * PAGE_SIZE;
			return below(src, 1ull << (e->cfg.maxphyaddr - 12)) * PAGE_SIZE;
		}
	}
	return page_index_gpa(below(src, e->ram_pages));
}

/* The address bits of a large-page entry at level (4 MiB, 2 MiB or 1 GiB), mostly over RAM. */
static uint64_t large_frame_bits(struct diff_engine *e, struct diff_src *src, enum guest_paging_mode mode,
				 unsigned level)
{
	uint64_t size = 1ull << level_shift(mode, level);
	static const uint64_t ram_bases[] = { 0, 2 * MIB, 4 * MIB, 6 * MIB, 16 * MIB, 8 * MIB };

	if (mode == PAGING_32) {
		/* PSE-36: address bits 39:32 live in entry bits 20:13. */
		if (chance(src, 10))
			return (below(src, 1024) << 22) | (below(src, 256) << 13);
		return ram_bases[below(src, 6)] & ~(size - 1);
	}
	if (size == GIB)
		return chance(src, 75) ? 0 : below(src, 1ull << (e->cfg.maxphyaddr - 30)) * GIB;
	if (chance(src, 85))
		return ram_bases[below(src, 6)];
	return below(src, 1ull << (e->cfg.maxphyaddr - 21)) * size;
}

/* A bit the SDM reserves in a present entry of this kind (whether it bites can depend on MAXPHYADDR and EFER.NXE). */
static uint64_t reserved_bit(struct diff_engine *e, struct diff_src *src, enum guest_paging_mode mode,
			     unsigned level, bool large)
{
	unsigned m = e->cfg.maxphyaddr;

	if (mode == PAGING_32)
		return large ? 1ull << 21 : 0;
	if (large && chance(src, 50))
		return 1ull << (13 + below(src, level == 3 ? 17 : 8));
	if (mode == PAGING_PAE)
		return 1ull << (m + below(src, 63 - m));
	if (level == 4 && chance(src, 30))
		return GPTE_LARGE;
	return 1ull << (m + below(src, 52 - m));
}

static uint64_t build_table(struct diff_engine *e, struct diff_src *src, enum guest_paging_mode mode,
			    unsigned level, uint64_t gva_base, int *budget);

/* A random entry for a table of mode at level mapping linear address gva; may build child tables while *budget lasts. */
static uint64_t make_entry(struct diff_engine *e, struct diff_src *src, enum guest_paging_mode mode,
			   unsigned level, uint64_t gva, int *budget)
{
	bool eight = entry_size(mode) == 8;
	bool large_ok = level == 2 || (mode == PAGING_4LEVEL && level == 3 && e->cfg.gbpages);
	uint64_t flags = GPTE_PRESENT, v;
	bool large = false;

	if (chance(src, level > 1 ? 4 : 8)) {
		add_gva(e, src, mode, gva + below(src, 1ull << level_shift(mode, level)));
		return (below(src, 1ull << 31) << 1) & entry_mask(mode);
	}
	if (chance(src, level > 1 ? 92 : 75))
		flags |= GPTE_WRITABLE;
	if (chance(src, 85))
		flags |= GPTE_USER;
	if (chance(src, 50))
		flags |= GPTE_ACCESSED;
	if (chance(src, 10))
		flags |= chance(src, 50) ? GPTE_PWT : GPTE_PCD;
	if (eight && chance(src, level > 1 ? 3 : 8))
		flags |= GPTE_NX;

	if (level > 1 && (large_ok ? chance(src, 20) : below(src, 200) == 0)) {
		large = true;
		v = large_frame_bits(e, src, mode, level) | flags | GPTE_LARGE;
		if (chance(src, 40))
			v |= GPTE_DIRTY;
		add_gva(e, src, mode, gva + below(src, 1ull << level_shift(mode, level)));
		add_gva(e, src, mode, gva + below(src, 1ull << level_shift(mode, level)));
	} else if (level > 1) {
		struct diff_table *t = NULL;
		uint64_t target;

		if (chance(src, 3))
			t = pick_table(e, src, mode, 0);	/* a table of another level: recursive maps */
		else if (*budget <= 0 || chance(src, 15))
			t = pick_table(e, src, mode, level - 1);
		if (t)
			target = t->gpa & ~(PAGE_SIZE - 1);
		else if (*budget > 0) {
			(*budget)--;
			target = build_table(e, src, mode, level - 1, gva, budget);
		} else
			target = e->data_pages[below(src, DIFF_DATA_PAGES)];
		v = target | flags;
	} else {
		v = leaf_frame(e, src, mode) | flags;
		if (chance(src, 30))
			v |= GPTE_DIRTY;
		if (chance(src, 10))
			v |= GPTE_GLOBAL;
		add_gva(e, src, mode, gva + below(src, PAGE_SIZE));
	}
	if (chance(src, level > 2 ? 1 : level > 1 ? 2 : 4))
		v |= reserved_bit(e, src, mode, level, large);
	return v & entry_mask(mode);
}

static uint64_t build_table(struct diff_engine *e, struct diff_src *src, enum guest_paging_mode mode,
			    unsigned level, uint64_t gva_base, int *budget)
{
	uint64_t gpa = alloc_page(e, src);
	struct diff_table *t;
	unsigned n = entries_per_table(mode, level), size = entry_size(mode);
	unsigned count = 1 + below(src, 4), start = below(src, n), k;
	bool top = level == (mode == PAGING_4LEVEL ? 4 : 2) && !gva_base;

	if (e->nr_tables == DIFF_MAX_TABLES)
		return gpa;
	t = add_table(e, gpa, mode, level, gva_base);
	if (level == 1)
		count += 4 + below(src, 24);
	if (top)
		count += 2 + below(src, 4);
	if (chance(src, 15))
		count += below(src, 40);
	for (k = 0; k < count; k++) {
		unsigned idx = chance(src, 30) ? below(src, n) : (start + k) % n;
		uint64_t gva = gva_base | ((uint64_t)idx << level_shift(mode, level));

		put_entry(e, gpa + (uint64_t)idx * size, size, make_entry(e, src, mode, level, gva, budget));
		if (t->nr_used < 16)
			t->used[t->nr_used++] = idx;
	}
	return gpa;
}

/* A PAE page-directory-pointer table at a 32-byte-aligned place inside a page; its PDPTEs load without #GP. */
static uint64_t build_pae_space(struct diff_engine *e, struct diff_src *src, int *budget)
{
	uint64_t pdpt = alloc_page(e, src) + below(src, 128) * 32;
	struct diff_table *t = add_table(e, pdpt, PAGING_PAE, 3, 0);
	unsigned i;

	for (i = 0; i < 4; i++) {
		uint64_t gva = (uint64_t)i << 30, pd, v = 0;
		struct diff_table *shared = chance(src, 15) ? pick_table(e, src, PAGING_PAE, 2) : NULL;

		t->used[t->nr_used++] = i;
		if (chance(src, 15)) {
			add_gva(e, src, PAGING_PAE, gva + below(src, GIB));
		} else {
			pd = shared ? shared->gpa : build_table(e, src, PAGING_PAE, 2, gva, budget);
			v = pd | GPTE_PRESENT | (chance(src, 10) ? GPTE_PCD : 0);
		}
		put_entry(e, pdpt + 8 * i, 8, v);
	}
	return pdpt;
}

static void build_spaces(struct diff_engine *e, struct diff_src *src)
{
	unsigned i;
	int budget;

	for (i = 0; i < DIFF_DATA_PAGES; i++)
		e->data_pages[i] = alloc_page(e, src);
	for (i = 0; i < DIFF_SPACES; i++) {
		e->gva_space = i;
		budget = e->cfg.tables_per_space;
		e->spaces[PAGING_32][i] = build_table(e, src, PAGING_32, 2, 0, &budget);
		budget = e->cfg.tables_per_space;
		e->spaces[PAGING_PAE][i] = build_pae_space(e, src, &budget);
		budget = e->cfg.tables_per_space;
		e->spaces[PAGING_4LEVEL][i] = build_table(e, src, PAGING_4LEVEL, 4, 0, &budget);
	}
}

/* ---- paging state ---- */

static bool load_pdptes(struct diff_engine *e, struct guest_paging *g)
{
	uint64_t mmu_pdptes[4];
	bool ok = ref_load_pdptes(&e->ref, g->cr3, g->maxphyaddr, g->pdptes);
	bool mmu_ok = guest_load_pae_pdptes(&e->sim->mmu, g->cr3, g->maxphyaddr, mmu_pdptes);

	if (ok != mmu_ok || (ok && memcmp(mmu_pdptes, g->pdptes, sizeof(mmu_pdptes))))
		return fail(e, "PDPTE load at cr3 %#llx: reference %s, guest_load_pae_pdptes %s\n",
			    (unsigned long long)g->cr3, ok ? "loads" : "#GP", mmu_ok ? "loads" : "#GP");
	if (!ok)
		e->n.pdpte_gp++;
	return ok;
}

/* The guest state of mode with the permission bits of g kept. */
static void enter_mode(struct diff_engine *e, struct guest_paging *g, enum guest_paging_mode mode, unsigned space)
{
	g->cr0 = (g->cr0 & PG_CR0_WP) | 1 | (mode != PAGING_OFF ? PG_CR0_PG : 0);
	g->cr4 = (g->cr4 & (PG_CR4_SMEP | PG_CR4_SMAP | PG_CR4_PSE | PG_CR4_PGE)) |
		 (mode == PAGING_PAE || mode == PAGING_4LEVEL ? PG_CR4_PAE : 0);
	g->efer = (g->efer & PG_EFER_NXE) | (mode == PAGING_4LEVEL ? PG_EFER_LME | PG_EFER_LMA : 0);
	if (mode != PAGING_OFF)
		g->cr3 = e->spaces[mode][space];
	memset(g->pdptes, 0, sizeof(g->pdptes));
	g->maxphyaddr = e->cfg.maxphyaddr;
	g->gbpages = e->cfg.gbpages;
}

static bool set_paging(struct diff_engine *e, unsigned vcpu, const struct guest_paging *g)
{
	mmu_set_paging(&e->vcpus[vcpu]->v, g);
	e->vs[vcpu].g = *g;
	return true;
}

/* ---- setup and teardown ---- */

bool diff_init(struct diff_engine *e, const struct diff_config *cfg, struct diff_src *src)
{
	unsigned i;

	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	e->sim = calloc(1, sizeof(*e->sim));
	sim_init(e->sim, SLOT0_PAGES, SLOT1_GFN, SLOT1_PAGES, below(src, ~0ull));
	e->ref.ptr = ref_ptr;
	e->ref.ctx = e;
	for (i = 0; i < e->sim->nr_slots; i++)
		e->ref_ram[i] = sim_ram_alloc(e->sim->slots[i].npages * PAGE_SIZE);
	e->ram_pages = SLOT0_PAGES + SLOT1_PAGES;
	e->page_used = calloc(e->ram_pages, 1);
	build_spaces(e, src);

	if (!mmu_init(&e->sim->mmu, cfg->maxphyaddr, cfg->max_shadow_pages))
		return fail(e, "mmu_init failed\n");
	e->sim->mmu.zap_slow = cfg->zap_slow;
	for (i = 0; i < cfg->nr_vcpus; i++) {
		struct guest_paging g;

		e->vcpus[i] = malloc(sizeof(*e->vcpus[i]));
		sim_vcpu_reset(e->vcpus[i], e->sim);
		if (!mmu_vcpu_init(&e->sim->mmu, &e->vcpus[i]->v))
			return fail(e, "mmu_vcpu_init failed\n");
		memset(&g, 0, sizeof(g));
		g.cr0 = chance(src, 80) ? PG_CR0_WP : 0;
		g.cr4 = (chance(src, 30) ? PG_CR4_SMEP : 0) | (chance(src, 30) ? PG_CR4_SMAP : 0) |
			(chance(src, 60) ? PG_CR4_PSE : 0);
		g.efer = chance(src, 85) ? PG_EFER_NXE : 0;
		e->vs[i].space[cfg->mode] = i % DIFF_SPACES;
		enter_mode(e, &g, cfg->mode, i % DIFF_SPACES);
		if (cfg->mode == PAGING_PAE && !load_pdptes(e, &g))
			return fail(e, "the initial PDPTEs do not load\n");
		set_paging(e, i, &g);
	}
	e->sim->alloc_fail_permille = cfg->alloc_fail_permille;
	return !e->failed;
}

bool diff_destroy(struct diff_engine *e)
{
	unsigned i;

	e->sim->alloc_fail_permille = 0;
	mmu_destroy(&e->sim->mmu);
	sim_destroy(e->sim);
	if (e->sim->broken)
		fail(e, "after mmu_destroy: %s\n", e->sim->why);
	for (i = 0; i < e->cfg.nr_vcpus; i++)
		free(e->vcpus[i]);
	for (i = 0; i < e->sim->nr_slots; i++)
		sim_ram_free(e->ref_ram[i], e->sim->slots[i].npages * PAGE_SIZE);
	free(e->page_used);
	free(e->sim);
	return !e->failed;
}

/* ---- operation generation ---- */

static const uint64_t toggle_mask[DIFF_TOGGLES] = {
	PG_CR0_WP, PG_EFER_NXE, PG_CR4_SMEP, PG_CR4_SMAP, PG_CR4_PSE, PG_CR4_PGE,
};

/* The control register that holds toggle t's bit. */
static uint64_t *toggle_reg(struct guest_paging *g, unsigned t)
{
	return t == TOGGLE_WP ? &g->cr0 : t == TOGGLE_NXE ? &g->efer : &g->cr4;
}


/* The table the builder made at gpa's page for mode, or NULL (a data page read as a table). */
static const struct diff_table *find_table(const struct diff_engine *e, uint64_t gpa, enum guest_paging_mode mode)
{
	unsigned i;

	for (i = 0; i < e->nr_tables; i++)
		if (e->tables[i].mode == mode && (e->tables[i].gpa & ~(PAGE_SIZE - 1)) == (gpa & ~(PAGE_SIZE - 1)))
			return &e->tables[i];
	return NULL;
}

/*
 * A linear address found by walking down the vCPU's current tables in
 * reference memory, through whatever entries are there now: shared tables,
 * self-maps and the guest's latest edits included.
 */
static uint64_t walk_sample(struct diff_engine *e, struct diff_src *src, const struct guest_paging *g)
{
	enum guest_paging_mode mode = guest_paging_mode(g);
	unsigned size = entry_size(mode), level = mode == PAGING_4LEVEL ? 4 : 2;
	uint64_t gva = 0, table;

	if (mode == PAGING_PAE) {
		unsigned i = below(src, 4), tries;

		for (tries = 0; tries < 4 && !(g->pdptes[i] & GPTE_PRESENT); tries++)
			i = below(src, 4);
		gva = (uint64_t)i << 30;
		table = g->pdptes[i] & ~(PAGE_SIZE - 1) & ((1ull << g->maxphyaddr) - 1);
		if (!(g->pdptes[i] & GPTE_PRESENT))
			return gva | below(src, GIB);
	} else {
		table = g->cr3 & (mode == PAGING_32 ? 0xfffff000ull : ~(PAGE_SIZE - 1) & ((1ull << g->maxphyaddr) - 1));
	}
	for (;; level--) {
		const struct diff_table *t = find_table(e, table, mode);
		unsigned shift = level_shift(mode, level), idx, tries;
		uint64_t entry = 0;

		for (tries = 0; tries < 8; tries++) {
			idx = (t && t->nr_used && chance(src, 70)) ? t->used[below(src, t->nr_used)]
								   : below(src, entries_per_table(mode, level));
			if (!is_ram(e, table + (uint64_t)idx * size))
				return gva | below(src, 1ull << (shift + 9));
			entry = ref_read(e, table + (uint64_t)idx * size, size);
			if (entry & GPTE_PRESENT)
				break;
		}
		gva |= (uint64_t)idx << shift;
		if (!(entry & GPTE_PRESENT) || level == 1 || (entry & GPTE_LARGE && chance(src, 80)))
			return gva | below(src, 1ull << shift);
		table = entry & (mode == PAGING_32 ? 0xfffff000ull : ~(PAGE_SIZE - 1) & ((1ull << g->maxphyaddr) - 1));
	}
}

/* Mostly what the vCPU's address space maps now, some remembered addresses and neighbours, a few anywhere. */
static uint64_t pick_gva(struct diff_engine *e, struct diff_src *src, const struct diff_vcpu *vs)
{
	enum guest_paging_mode mode = guest_paging_mode(&vs->g);
	const uint64_t *list = e->gvas[mode][vs->space[mode]];
	unsigned n = e->nr_gvas[mode][vs->space[mode]], r = below(src, 20);
	uint64_t gva;

	/* The same page again, with another access kind or from another vCPU: what stale TLB entries need. */
	e->recent_reused = r < 6 && e->recent_next;
	if (e->recent_reused)
		gva = e->recent[below(src, e->recent_next < 8 ? e->recent_next : 8)] ^ below(src, PAGE_SIZE);
	else if (mode == PAGING_OFF)
		gva = r < 18 ? below(src, 20 * MIB) : below(src, 1ull << 32);
	else if (r < 17)
		gva = walk_sample(e, src, &vs->g);
	else if (r < 19 && n)
		gva = list[below(src, n)];
	else if (n && chance(src, 50))
		gva = list[below(src, n)] ^ (below(src, 512) << 12);
	else
		gva = below(src, mode == PAGING_4LEVEL ? 1ull << 48 : 1ull << 32);
	gva = linear_address(mode, gva);
	e->recent[e->recent_next++ % 8] = gva;
	return gva;
}

/* A guest's edit of one entry: mostly a fresh mapping or one flag changed, sometimes something broken. */
static uint64_t mutate_entry(struct diff_engine *e, struct diff_src *src, const struct diff_table *t,
			     uint64_t old, uint64_t gva)
{
	unsigned size = entry_size(t->mode), r = below(src, 100);
	int no_new_tables = 0;
	struct diff_table *child;

	if (r < 30)
		return make_entry(e, src, t->mode, t->level, gva, &no_new_tables);
	if (r < 40)
		return old ^ GPTE_PRESENT;
	if (r < 50)
		return old ^ GPTE_WRITABLE;
	if (r < 58)
		return old ^ GPTE_USER;
	if (r < 61)
		return size == 8 ? old ^ GPTE_NX : old ^ GPTE_WRITABLE;
	if (r < 73)
		return old & ~(GPTE_ACCESSED | GPTE_DIRTY);
	if (r < 78) {
		bool large_ok = t->level == 2 || (t->mode == PAGING_4LEVEL && t->level == 3);

		return large_ok ? old ^ GPTE_LARGE : make_entry(e, src, t->mode, t->level, gva, &no_new_tables);
	}
	if (r < 88) {
		child = t->level > 1 ? pick_table(e, src, t->mode, t->level - 1) : NULL;
		return (old & (0xfffull | GPTE_NX)) |
		       (child ? child->gpa & ~(PAGE_SIZE - 1) : leaf_frame(e, src, t->mode));
	}
	if (r < 91)
		return old | reserved_bit(e, src, t->mode, t->level, (old & GPTE_LARGE) && t->level > 1);
	if (r < 93)
		return 0;
	if (r < 98)
		return (old ^ (1ull << below(src, size == 8 ? e->cfg.maxphyaddr : 32))) & entry_mask(t->mode);
	return (old ^ (1ull << below(src, size * 8))) & entry_mask(t->mode);
}

static void gen_guest_write(struct diff_engine *e, struct diff_src *src, struct diff_op *op,
			    enum guest_paging_mode mode)
{
	struct diff_table *t = chance(src, 70) ? pick_table(e, src, mode, 0) : NULL;
	unsigned size, n, idx, k, r;
	uint64_t entry_gpa, new, gva;
	uint8_t bytes[16];

	if (!t || (t->mode == PAGING_PAE && t->level == 3 && chance(src, 60)))
		t = &e->tables[below(src, e->nr_tables)];
	size = entry_size(t->mode);
	n = entries_per_table(t->mode, t->level);
	idx = (t->nr_used && chance(src, 70)) ? t->used[below(src, t->nr_used)] : below(src, n);
	entry_gpa = t->gpa + (uint64_t)idx * size;
	gva = t->gva_base | ((uint64_t)idx << level_shift(t->mode, t->level));
	new = mutate_entry(e, src, t, ref_read(e, entry_gpa, size), gva);
	/* The sampler walks through remembered entries: a new mapping joins them. */
	if (new & GPTE_PRESENT)
		t->used[t->nr_used < 16 ? t->nr_used++ : below(src, 16)] = idx;
	if (chance(src, 50))
		add_gva(e, src, t->mode, gva + below(src, 1ull << level_shift(t->mode, t->level)));

	op->kind = DIFF_GUEST_WRITE;
	op->emulate = chance(src, 10);
	/* Neighbouring bytes as they are, with the new entry overlaid, so a partial or misaligned store writes sense. */
	memset(bytes, 0, sizeof(bytes));
	memcpy(bytes, &(uint64_t){ ref_read(e, entry_gpa, size) }, size);
	if ((entry_gpa & (PAGE_SIZE - 1)) + 16 <= PAGE_SIZE) {
		uint64_t lo = ref_read(e, entry_gpa, 8), hi = ref_read(e, entry_gpa + 8, 8);

		memcpy(bytes, &lo, 8);
		memcpy(bytes + 8, &hi, 8);
	}
	memcpy(bytes, &new, size);
	r = below(src, 100);
	if (r < 80) {
		op->addr = entry_gpa;
		op->len = size;
		k = 0;
	} else if (r < 90) {
		k = below(src, size);
		op->addr = entry_gpa + k;
		op->len = 1;
	} else if (r < 95 && size == 8) {
		k = chance(src, 50) ? 4 : 0;
		op->addr = entry_gpa + k;
		op->len = 4;
	} else if ((entry_gpa & (PAGE_SIZE - 1)) + 16 <= PAGE_SIZE) {
		k = 1 + below(src, size - 1);
		op->addr = entry_gpa + k;
		op->len = size;
	} else {
		k = 0;
		op->addr = entry_gpa;
		op->len = size;
	}
	memcpy(&op->value, bytes + k, op->len);
}

/* A guest access by op->vcpu: the fields of DIFF_ACCESS (the kind is the caller's). */
static void gen_access(struct diff_engine *e, struct diff_src *src, struct diff_op *op, struct diff_vcpu *vs)
{
	static const uint8_t kinds[] = { 0, 0, 0, 0, 0, WALK_WRITE, WALK_WRITE, WALK_WRITE, WALK_FETCH, WALK_FETCH };
	static const uint8_t any_kind[] = { 0, WALK_WRITE, WALK_FETCH };

	op->access = kinds[below(src, 10)];
	op->addr = pick_gva(e, src, vs);
	/* An address that gave MMIO lately: the second access takes the fast path, or finds its spte stale. */
	if (e->recent_mmio_next && chance(src, 12)) {
		op->addr = e->recent_mmio[below(src, e->recent_mmio_next < 8 ? e->recent_mmio_next : 8)] ^
			   below(src, PAGE_SIZE);
		e->recent_reused = false;
	}
	/* A page seen lately comes back with any access kind, often from the other privilege level. */
	if (e->recent_reused) {
		op->access = any_kind[below(src, 3)];
		if (chance(src, 30))
			vs->cpl = vs->cpl ? 0 : 3;
	}
	/* CPL and EFLAGS.AC change now and then, as they would in a guest. */
	if (chance(src, 10))
		vs->cpl = vs->cpl ? 0 : 3;
	if (chance(src, 20))
		vs->ac = !vs->ac;
	op->cpl = vs->cpl;
	op->ac = vs->ac;
	if (op->access == WALK_WRITE) {
		op->len = 1u << below(src, 4);
		if ((op->addr & (PAGE_SIZE - 1)) > PAGE_SIZE - op->len)
			op->addr &= ~(uint64_t)(op->len - 1);
		op->value = below(src, ~0ull);
	}
}

/*
 * A memslot update: a plain generation bump, or slot 1 removed (rarely) or
 * restored (soon after); a third of them with a guest access while the
 * update is in progress, before the slots change, so that an MMIO spte made
 * from the old slots carries an in-progress generation.
 */
static void gen_memslot_update(struct diff_engine *e, struct diff_src *src, struct diff_op *op,
			       struct diff_vcpu *vs, unsigned r)
{
	if (r < 10)
		op->slot_op = SLOT_OP_NONE;
	else if (e->sim->slots[SLOT1].removed)
		op->slot_op = SLOT_OP_RESTORE;
	else
		op->slot_op = r < 13 ? SLOT_OP_REMOVE : SLOT_OP_NONE;
	if (chance(src, 33)) {
		gen_access(e, src, op, vs);
		op->update_access = 1;
	}
	op->kind = DIFF_MEMSLOT_UPDATE;
}

void diff_gen_op(struct diff_engine *e, struct diff_src *src, struct diff_op *op)
{
	unsigned r;
	struct diff_vcpu *vs;
	enum guest_paging_mode mode;

	memset(op, 0, sizeof(*op));
	op->vcpu = below(src, e->cfg.nr_vcpus);
	vs = &e->vs[op->vcpu];
	mode = guest_paging_mode(&vs->g);
	e->gva_space = vs->space[mode];
	r = below(src, 1000);
	/* 1% generation bumps, slot 1 away about a tenth of the time: 0.3% removals, 3% restores while it is away. */
	if (r < 10 || (r < 13 && !e->sim->slots[SLOT1].removed) || (r < 40 && e->sim->slots[SLOT1].removed)) {
		gen_memslot_update(e, src, op, vs, r);
	} else if (r >= 560 && r < 780 && e->nr_tables) {
		gen_guest_write(e, src, op, mode);
	} else if (r >= 780 && r < 830) {
		op->kind = DIFF_INVLPG;
		op->addr = pick_gva(e, src, vs);
	} else if (r >= 830 && r < 900) {
		op->kind = DIFF_SET_CR3;
		op->addr = below(src, DIFF_SPACES);
	} else if (r >= 900 && r < 960) {
		op->kind = DIFF_TOGGLE;
		op->addr = below(src, DIFF_TOGGLES);
		/* Guests mostly keep NX on: without it every XD bit in the tables is a reserved-bit fault. */
		if (op->addr == TOGGLE_NXE && (vs->g.efer & PG_EFER_NXE) && chance(src, 75))
			op->addr = TOGGLE_WP;
		op->value = !(*toggle_reg(&vs->g, op->addr) & toggle_mask[op->addr]);
	} else if (r >= 960 && r < 975 && e->cfg.mode_switches) {
		op->kind = DIFF_SET_MODE;
		op->addr = below(src, 4);
		op->value = below(src, DIFF_SPACES);
	} else if (r >= 975 && r < 985 && e->nr_tables) {
		op->kind = DIFF_UNPROTECT;
		op->addr = e->tables[below(src, e->nr_tables)].gpa / PAGE_SIZE;
	} else if (r >= 985 && r < 990) {
		op->kind = DIFF_ZAP_ALL;
	} else if (r >= 990 && r < 993) {
		op->kind = DIFF_MEMSLOT_CHANGED;
		op->addr = below(src, e->sim->nr_slots);
	} else if (r >= 40 && r < 45) {
		/* 0.5% invalidations (a guest's zap hypercall); memslot removals and the wrap add theirs. */
		op->kind = DIFF_INVALIDATE;
	} else if (r >= 45 && r < 75) {
		/* 3%: the host's batches between entries, not always in time, so faults also reclaim obsolete pages. */
		op->kind = DIFF_ZAP_STEP;
		op->value = 1 + below(src, 4);
	} else {
		op->kind = DIFF_ACCESS;
		gen_access(e, src, op, vs);
	}
}

/* ---- applying operations ---- */

enum outcome_kind { OUT_TRANSLATED, OUT_FAULT, OUT_MMIO, OUT_NO_MEMORY, OUT_BROKEN };

struct outcome {
	enum outcome_kind kind;
	uint64_t gpa;		/* TRANSLATED, MMIO */
	uint32_t error_code;	/* FAULT */
	uint64_t cr2;		/* FAULT */
	bool emulated;
};

/* Serves the vCPU's pending requests as the host does before entering the guest; false when mmu_load_root has no memory. */
static bool serve_requests(struct diff_engine *e, struct sim_vcpu *sv)
{
	unsigned rounds;

	for (rounds = 0; sv->requests && rounds < 8; rounds++) {
		unsigned req = sv->requests;

		sv->requests = 0;
		if (req & MMU_REQ_RELOAD_ROOT) {
			const struct mmu_vcpu *v = &sv->v;
			uint64_t root;
			unsigned i;
			bool obsolete = v->root_sp && sp_obsolete(&e->sim->mmu, v->root_sp);

			for (i = 0; i < 4; i++)
				obsolete |= v->pae_root_sps[i] && sp_obsolete(&e->sim->mmu, v->pae_root_sps[i]);
			e->n.obsolete_root_reloads += obsolete;
			sv->nr_reload++;
			if (mmu_load_root(&sv->v, &root)) {
				sv->requests |= req;
				sv->root_loaded = false;
				return false;
			}
			sv->root_pa = root;
			sv->root_loaded = true;
		}
		if (req & (MMU_REQ_TLB_FLUSH | MMU_REQ_RELOAD_ROOT))
			sim_tlb_flush_all(sv);
	}
	if (sv->requests)
		return fail(e, "requests keep coming back while serving them (%#x)\n", sv->requests);
	return true;
}

/* The guest's access on the MMU side: the CPU on the shadow tables, and the MMU's fault handling until it completes. */
static void mmu_side_access(struct diff_engine *e, const struct diff_op *op, uint64_t gva, unsigned access,
			    struct outcome *o)
{
	struct sim_vcpu *sv = e->vcpus[op->vcpu];
	struct diff_vcpu *vs = &e->vs[op->vcpu];
	unsigned tries;

	memset(o, 0, sizeof(*o));
	for (tries = 0; tries < 8; tries++) {
		uint64_t host_pa, gpa = ~0ull, gpa2;
		uint32_t ec, ec2;
		enum mmu_pf_result pf;
		enum sim_cpu_result r;

		if (!serve_requests(e, sv)) {
			o->kind = e->failed ? OUT_BROKEN : OUT_NO_MEMORY;
			return;
		}
		r = sim_cpu_access(sv, &vs->g, gva, access, &host_pa, &ec);
		if (r == SIM_CPU_BROKEN) {
			fail(e, "CPU: %s\n", e->sim->why);
			o->kind = OUT_BROKEN;
			return;
		}
		if (r == SIM_CPU_OK) {
			sim_host_pa_to_gpa(e->sim, host_pa, &o->gpa);
			o->kind = OUT_TRANSLATED;
			e->n.via_tlb_or_walk++;
			if ((access & WALK_WRITE) && mmu_gfn_write_protected(&e->sim->mmu, o->gpa / PAGE_SIZE)) {
				fail(e, "the CPU let the guest write gpa %#llx, whose gfn is write-protected\n",
				     (unsigned long long)o->gpa);
				o->kind = OUT_BROKEN;
				return;
			}
			if (access & WALK_WRITE)
				memcpy(sim_guest_ptr(e->sim, o->gpa, op->len), &op->value, op->len);
			return;
		}
		pf = mmu_page_fault(&sv->v, gva, ec, op->cpl, op->ac, &gpa);
		if (pf != MMU_PF_INJECTED && sv->injected) {
			fail(e, "mmu_page_fault returned %d but injected a #PF\n", pf);
			o->kind = OUT_BROKEN;
			return;
		}
		switch (pf) {
		case MMU_PF_RETRY:
			e->n.retries++;
			continue;
		case MMU_PF_INJECTED:
			if (!sv->injected) {
				fail(e, "MMU_PF_INJECTED without an injected #PF\n");
				o->kind = OUT_BROKEN;
				return;
			}
			sv->injected = false;
			o->kind = OUT_FAULT;
			o->error_code = sv->inject_error_code;
			o->cr2 = sv->inject_cr2;
			return;
		case MMU_PF_EMULATE:
			o->emulated = true;
			e->n.via_emulation++;
			if (!mmu_gva_to_gpa(&sv->v, gva, access, &gpa2, &ec2)) {
				o->kind = OUT_FAULT;
				o->error_code = ec2;
				o->cr2 = gva;
				return;
			}
			if (gpa2 != gpa) {
				fail(e, "MMU_PF_EMULATE gave gpa %#llx, mmu_gva_to_gpa %#llx\n",
				     (unsigned long long)gpa, (unsigned long long)gpa2);
				o->kind = OUT_BROKEN;
				return;
			}
			o->gpa = gpa2;
			if (!is_ram(e, gpa2)) {
				o->kind = OUT_MMIO;
				return;
			}
			o->kind = OUT_TRANSLATED;
			if ((access & WALK_WRITE) && !mmu_emulated_write(&sv->v, gpa2, &op->value, op->len)) {
				fail(e, "mmu_emulated_write refused RAM gpa %#llx\n", (unsigned long long)gpa2);
				o->kind = OUT_BROKEN;
			}
			return;
		case MMU_PF_MMIO:
			o->kind = OUT_MMIO;
			o->gpa = gpa;
			return;
		case MMU_PF_NO_MEMORY:
			o->kind = OUT_NO_MEMORY;
			return;
		default:
			fail(e, "mmu_page_fault: %s for hardware error code %#x\n",
			     pf == MMU_PF_BAD_FAULT ? "MMU_PF_BAD_FAULT" : "unknown result", ec);
			o->kind = OUT_BROKEN;
			return;
		}
	}
	fail(e, "livelock: the access still faults after %u MMU_PF_RETRY\n", tries);
	o->kind = OUT_BROKEN;
}

static const char *outcome_text(const struct outcome *o, char *buf, size_t size)
{
	switch (o->kind) {
	case OUT_TRANSLATED:
		snprintf(buf, size, "gpa %#llx%s", (unsigned long long)o->gpa, o->emulated ? " (emulated)" : "");
		break;
	case OUT_FAULT:
		snprintf(buf, size, "#PF error code %#x cr2 %#llx", o->error_code, (unsigned long long)o->cr2);
		break;
	case OUT_MMIO:
		snprintf(buf, size, "MMIO at gpa %#llx", (unsigned long long)o->gpa);
		break;
	default:
		snprintf(buf, size, "no memory");
		break;
	}
	return buf;
}

/*
 * An access (faults, root loads) recycled current pages: making room must
 * have taken every obsolete page it could first (all but roots).  Only
 * accesses make room, and nothing invalidates during one.
 */
static bool check_reclaim_order(struct diff_engine *e, uint64_t recycled_before)
{
	struct mmu *mmu = &e->sim->mmu;
	const struct shadow_page *sp;

	if (mmu->stats.mmu_recycled != recycled_before)
		for (sp = mmu->active_tail; sp && sp_obsolete(mmu, sp); sp = sp->active_prev)
			if (!sp->root_count)
				return fail(e, "a current page was recycled while an obsolete page (gfn %#llx) was left\n",
					    (unsigned long long)sp->gfn);
	return true;
}

static bool apply_access(struct diff_engine *e, const struct diff_op *op)
{
	struct diff_vcpu *vs = &e->vs[op->vcpu];
	enum guest_paging_mode mode = guest_paging_mode(&vs->g);
	uint64_t gva = linear_address(mode, op->addr);
	unsigned access = op->access | (op->cpl == 3 ? WALK_USER : 0) | (op->cpl < 3 && op->ac ? WALK_SMAP_AC : 0);
	struct ref_result rr;
	struct outcome want, got;
	const struct mmu_stats *stats = &e->sim->mmu.stats;
	uint64_t fast_before, misses_before, created_before, recycled_before;
	char a[96], b[96];
	unsigned i;

	if ((access & WALK_WRITE) && (gva & (PAGE_SIZE - 1)) + op->len > PAGE_SIZE)
		return true;	/* a write crossing pages is two accesses: not generated */
	ref_walk(&e->ref, &vs->g, gva, access, &rr);
	memset(&want, 0, sizeof(want));
	if (rr.fault) {
		want.kind = OUT_FAULT;
		want.error_code = rr.error_code;
		want.cr2 = gva;
	} else {
		want.kind = is_ram(e, rr.gpa) ? OUT_TRANSLATED : OUT_MMIO;
		want.gpa = rr.gpa;
		if (want.kind == OUT_TRANSLATED && (access & WALK_WRITE)) {
			memcpy(ref_ptr(e, rr.gpa, op->len), &op->value, op->len);
			mark_page(e, rr.gpa, PAGE_WRITTEN);
		}
	}
	for (i = 0; i < rr.nr_entries; i++)
		mark_table_page(e, rr.entry_gpa[i]);

	fast_before = stats->mmio_fast;
	misses_before = stats->mmio_generation_misses;
	created_before = stats->mmio_spte_created;
	recycled_before = stats->mmu_recycled;
	mmu_side_access(e, op, gva, access, &got);
	if (got.kind == OUT_NO_MEMORY) {
		if (!e->cfg.alloc_fail_permille)
			return fail(e, "the MMU ran out of memory without allocation failures\n");
		/* The instruction runs again once the host has memory. */
		e->n.no_memory++;
		e->sim->alloc_fail_permille = 0;
		mmu_side_access(e, op, gva, access, &got);
		e->sim->alloc_fail_permille = e->cfg.alloc_fail_permille;
	}
	if (got.kind == OUT_BROKEN || !check_reclaim_order(e, recycled_before))
		return false;
	if (got.kind == OUT_TRANSLATED && (access & WALK_WRITE))
		mark_page(e, got.gpa, PAGE_WRITTEN);
	e->n.checks++;
	if (want.kind != got.kind || (want.kind == OUT_FAULT && (want.error_code != got.error_code || want.cr2 != got.cr2)) ||
	    (want.kind != OUT_FAULT && want.gpa != got.gpa))
		return fail(e, "access mismatch: reference %s, MMU %s\n", outcome_text(&want, a, sizeof(a)),
			    outcome_text(&got, b, sizeof(b)));
	e->n.translated += got.kind == OUT_TRANSLATED;
	e->n.faulted += got.kind == OUT_FAULT;
	e->n.mmio += got.kind == OUT_MMIO;
	if (got.kind == OUT_MMIO)
		e->recent_mmio[e->recent_mmio_next++ % 8] = gva;
	e->n.mmio_fast += stats->mmio_fast != fast_before;
	/* A stale MMIO spte met by the fast path whose gfn is RAM now: the access must have translated (checked above). */
	e->n.mmio_stale_to_ram += stats->mmio_generation_misses != misses_before && got.kind == OUT_TRANSLATED;
	if (e->sim->memslot_generation & MEMSLOT_GEN_UPDATE_IN_PROGRESS)
		e->n.mmio_created_in_update += stats->mmio_spte_created != created_before;
	for (i = 0; i < rr.nr_entries; i++)
		if (!compare_page(e, rr.entry_gpa[i]))
			return false;
	return got.kind != OUT_TRANSLATED || compare_page(e, got.gpa);
}

static bool apply_guest_write(struct diff_engine *e, const struct diff_op *op)
{
	struct mmu_vcpu *v = &e->vcpus[op->vcpu]->v;
	void *ref = ref_ptr(e, op->addr, op->len);

	if (!ref || op->len == 0 || op->len > 8 || (op->addr & (PAGE_SIZE - 1)) + op->len > PAGE_SIZE)
		return true;
	memcpy(ref, &op->value, op->len);
	mark_page(e, op->addr, PAGE_WRITTEN);
	if (op->emulate || mmu_gfn_write_protected(&e->sim->mmu, op->addr / PAGE_SIZE)) {
		e->n.emulated_writes++;
		if (!mmu_emulated_write(v, op->addr, &op->value, op->len))
			return fail(e, "mmu_emulated_write refused RAM gpa %#llx\n", (unsigned long long)op->addr);
	} else {
		e->n.plain_writes++;
		memcpy(sim_guest_ptr(e->sim, op->addr, op->len), &op->value, op->len);
	}
	return compare_page(e, op->addr);
}

static bool apply_paging_change(struct diff_engine *e, const struct diff_op *op)
{
	struct diff_vcpu *vs = &e->vs[op->vcpu];
	struct guest_paging g = vs->g;
	enum guest_paging_mode mode = guest_paging_mode(&g);
	bool reload_pdptes = false;

	switch (op->kind) {
	case DIFF_SET_CR3:
		if (mode == PAGING_OFF)
			return true;
		vs->space[mode] = op->addr % DIFF_SPACES;
		g.cr3 = e->spaces[mode][vs->space[mode]];
		reload_pdptes = true;
		break;
	case DIFF_SET_MODE:
		mode = op->addr % 4;
		vs->space[mode] = op->value % DIFF_SPACES;
		enter_mode(e, &g, mode, vs->space[mode]);
		reload_pdptes = true;
		break;
	default: {
		uint64_t *reg, bit = op->addr < DIFF_TOGGLES ? toggle_mask[op->addr] : 0;

		if (!bit)
			return true;
		reg = toggle_reg(&g, op->addr);
		*reg = op->value ? *reg | bit : *reg & ~bit;
		reload_pdptes = op->addr == TOGGLE_SMEP || op->addr == TOGGLE_PSE || op->addr == TOGGLE_PGE;
		break;
	}
	}
	/* MOV to CR3, and to CR0/CR4 changing PG, PAE, PSE, PGE or SMEP, reload the PDPTEs (SDM 4.4.1); #GP leaves all as it was. */
	if (mode == PAGING_PAE && reload_pdptes && !load_pdptes(e, &g))
		return !e->failed;
	return set_paging(e, op->vcpu, &g);
}

/*
 * After a wrap every shadow page was invalidated: obsolete (or, zap=slow,
 * zapped, so that only invalid roots still referenced are left).
 */
static bool check_wrap_zapped_all(struct diff_engine *e)
{
	const struct shadow_page *sp;

	for (sp = e->sim->mmu.active_head; sp; sp = sp->active_next)
		if (!sp_obsolete(&e->sim->mmu, sp) || e->cfg.zap_slow)
			return fail(e, "the generation wrapped but shadow page gfn %#llx level %u survived\n",
				    (unsigned long long)sp->gfn, sp->role.level);
	return true;
}

/*
 * One memslot change as the VMM makes it (design: generation rules): the
 * update-in-progress bit, maybe a guest access meanwhile (from the old
 * slots), the change (the MMU zaps what maps a slot before it goes), then
 * the new generation and mmu_mmio_generation_changed().
 */
static bool apply_memslot_update(struct diff_engine *e, const struct diff_op *op)
{
	struct sim *s = e->sim;
	uint64_t wraps = s->mmu.stats.mmio_generation_wraps;
	bool ok = true, wrapped;

	sim_memslot_update_begin(s);
	if (op->update_access) {
		e->n.update_accesses++;
		ok = apply_access(e, op);
	}
	if (op->slot_op == SLOT_OP_REMOVE && !s->slots[SLOT1].removed) {
		mmu_memslot_removed(&s->mmu, SLOT1);
		sim_slot_remove(s, SLOT1);
		e->n.slot_changes++;
	} else if (op->slot_op == SLOT_OP_RESTORE && s->slots[SLOT1].removed) {
		sim_slot_restore(s, SLOT1);
		e->n.slot_changes++;
	}
	wrapped = sim_memslot_update_end(s);
	e->n.generation_bumps++;
	if (wrapped != ((s->memslot_generation & MMIO_SPTE_GEN_MASK) == 0) ||
	    s->mmu.stats.mmio_generation_wraps != wraps + wrapped)
		return fail(e, "mmu_mmio_generation_changed(%#llx) returned %d\n",
			    (unsigned long long)s->memslot_generation, wrapped);
	if (wrapped && !check_wrap_zapped_all(e))
		return false;
	return ok;
}

static void audit_report(const char *msg, void *ctx)
{
	fail(ctx, "audit: %s\n", msg);
}

/* Every vCPU was asked to reload; nothing was zapped or freed; every page is obsolete (zap=slow: none is left). */
static bool apply_invalidate(struct diff_engine *e)
{
	struct mmu *mmu = &e->sim->mmu;
	uint64_t pages = mmu->stats.shadow_pages, zapped = mmu->stats.mmu_shadow_zapped;
	uint64_t invalidations = mmu->stats.invalidations;
	unsigned in_use = e->sim->pages_in_use, i;

	e->n.invalidate_ops++;
	e->n.invalidated_pages += pages;
	mmu_invalidate_all(mmu);
	if (mmu->stats.invalidations != invalidations + 1)
		return fail(e, "mmu_invalidate_all counted %llu invalidations\n",
			    (unsigned long long)(mmu->stats.invalidations - invalidations));
	for (i = 0; i < e->cfg.nr_vcpus; i++)
		if ((e->vcpus[i]->requests & (MMU_REQ_RELOAD_ROOT | MMU_REQ_TLB_FLUSH)) !=
		    (MMU_REQ_RELOAD_ROOT | MMU_REQ_TLB_FLUSH))
			return fail(e, "mmu_invalidate_all left vcpu%u without a root reload and flush\n", i);
	if (e->cfg.zap_slow) {
		if (mmu->active_head || mmu->stats.obsolete_pages)
			return fail(e, "zap=slow: pages survived mmu_invalidate_all\n");
		return true;
	}
	if (mmu->stats.shadow_pages != pages || mmu->stats.obsolete_pages != pages ||
	    mmu->stats.mmu_shadow_zapped != zapped || e->sim->pages_in_use != in_use)
		return fail(e, "mmu_invalidate_all changed pages: %llu -> %llu in use, %llu obsolete, %llu zapped\n",
			    (unsigned long long)pages, (unsigned long long)mmu->stats.shadow_pages,
			    (unsigned long long)mmu->stats.obsolete_pages,
			    (unsigned long long)(mmu->stats.mmu_shadow_zapped - zapped));
	return true;
}

/* One mmu_zap_obsolete_step(): at most a batch of obsolete pages, oldest first, no current page, the result true. */
static bool zap_step(struct diff_engine *e, bool *more_work)
{
	struct mmu *mmu = &e->sim->mmu;
	const struct mmu_stats *st = &mmu->stats;
	bool work = mmu->active_tail && sp_obsolete(mmu, mmu->active_tail), more;
	uint64_t current = st->shadow_pages - st->obsolete_pages, zapped = st->obsolete_zapped;
	uint64_t batches = st->zap_batches, all_zapped = st->mmu_shadow_zapped, n;

	more = mmu_zap_obsolete_step(mmu);
	e->n.zap_steps++;
	n = st->obsolete_zapped - zapped;
	e->n.step_zapped += n;
	if (n > MMU_ZAP_BATCH || st->zap_longest_batch > MMU_ZAP_BATCH || st->mmu_shadow_zapped - all_zapped != n)
		return fail(e, "a zap step zapped %llu pages (%llu obsolete), the longest batch %llu\n",
			    (unsigned long long)(st->mmu_shadow_zapped - all_zapped), (unsigned long long)n,
			    (unsigned long long)st->zap_longest_batch);
	if (st->shadow_pages - st->obsolete_pages != current)
		return fail(e, "a zap step changed the current pages: %llu -> %llu\n", (unsigned long long)current,
			    (unsigned long long)(st->shadow_pages - st->obsolete_pages));
	if (work != (n > 0) || st->zap_batches != batches + work)
		return fail(e, "a zap step with%s obsolete pages at the tail zapped %llu (%llu batches)\n",
			    work ? "" : "out", (unsigned long long)n, (unsigned long long)(st->zap_batches - batches));
	if (more != (mmu->active_tail && sp_obsolete(mmu, mmu->active_tail)))
		return fail(e, "mmu_zap_obsolete_step returned %d\n", more);
	*more_work = more;
	return true;
}

static bool apply_zap_steps(struct diff_engine *e, uint64_t steps)
{
	uint64_t i;
	bool more;

	for (i = 0; i < 1 + (steps + 3) % 4; i++)
		if (!zap_step(e, &more))
			return false;
	return true;
}

/*
 * What must hold between operations: a vCPU that will enter without a
 * reload runs on usable roots (and so reaches only current pages: links
 * stay within a generation, which the audit checks).
 */
static bool check_roots_usable(struct diff_engine *e)
{
	struct mmu *mmu = &e->sim->mmu;
	unsigned i, j;

	for (i = 0; i < e->cfg.nr_vcpus; i++) {
		const struct mmu_vcpu *v = &e->vcpus[i]->v;

		if ((e->vcpus[i]->requests & MMU_REQ_RELOAD_ROOT) || !e->vcpus[i]->root_loaded)
			continue;
		if (v->root_sp && !sp_usable(mmu, v->root_sp))
			return fail(e, "vcpu%u will enter on a%s root\n", i,
				    v->root_sp->role.invalid ? "n invalid" : "n obsolete");
		for (j = 0; j < 4; j++)
			if (v->pae_root_sps[j] && !sp_usable(mmu, v->pae_root_sps[j]))
				return fail(e, "vcpu%u will enter with an unusable PAE root entry %u\n", i, j);
	}
	return true;
}

bool diff_apply(struct diff_engine *e, const struct diff_op *op)
{
	bool ok = true;
	unsigned violations;

	uint64_t obsolete_zapped = e->sim->mmu.stats.obsolete_zapped;

	if (e->failed)
		return false;
	if (op->vcpu >= e->cfg.nr_vcpus)
		return true;
	e->log[e->log_next++ % DIFF_LOG] = *op;
	e->n.ops++;
	switch (op->kind) {
	case DIFF_ACCESS:
		ok = apply_access(e, op);
		break;
	case DIFF_GUEST_WRITE:
		ok = apply_guest_write(e, op);
		break;
	case DIFF_INVLPG:
		mmu_invlpg(&e->vcpus[op->vcpu]->v, linear_address(guest_paging_mode(&e->vs[op->vcpu].g), op->addr));
		break;
	case DIFF_SET_CR3:
	case DIFF_SET_MODE:
	case DIFF_TOGGLE:
		ok = apply_paging_change(e, op);
		break;
	case DIFF_ZAP_ALL:
		mmu_zap_all(&e->sim->mmu);
		break;
	case DIFF_UNPROTECT:
		mmu_unprotect_gfn(&e->sim->mmu, op->addr);
		break;
	case DIFF_MEMSLOT_CHANGED:
		if (op->addr < e->sim->nr_slots) {
			sim_memslot_update_begin(e->sim);
			mmu_memslot_removed(&e->sim->mmu, op->addr);
			sim_memslot_update_end(e->sim);
			e->n.generation_bumps++;
		}
		break;
	case DIFF_MEMSLOT_UPDATE:
		ok = apply_memslot_update(e, op);
		break;
	case DIFF_INVALIDATE:
		ok = apply_invalidate(e);
		break;
	case DIFF_ZAP_STEP:
		ok = apply_zap_steps(e, op->value);
		break;
	default:
		break;
	}
	if (!ok)
		return false;
	if (e->sim->broken)
		return fail(e, "host: %s\n", e->sim->why);
	/* Besides the steps and zap-all, only making room zaps obsolete pages. */
	if (op->kind != DIFF_ZAP_STEP && op->kind != DIFF_ZAP_ALL)
		e->n.reclaimed_obsolete += e->sim->mmu.stats.obsolete_zapped - obsolete_zapped;
	if (!check_roots_usable(e))
		return false;
	violations = 0;
	if (e->n.ops % (e->cfg.audit_interval ? e->cfg.audit_interval : 1) == 0) {
		violations = mmu_audit(&e->sim->mmu, audit_report, e);
		if (!violations && !sim_check_page_accounting(e->sim))
			return fail(e, "host: %s\n", e->sim->why);
	}
	if (violations)
		return fail(e, "mmu_audit: %u violations\n", violations);
	if (e->n.ops % 64 == 0 && !compare_table_pages(e))
		return false;
	if (e->n.ops % 1024 == 0 && !diff_check_memory(e))
		return false;
	return !e->failed;
}

bool diff_drain(struct diff_engine *e)
{
	struct mmu *mmu = &e->sim->mmu;
	uint64_t steps = 0, limit;
	unsigned i, violations;
	bool more;

	if (e->failed)
		return false;
	e->sim->alloc_fail_permille = 0;
	for (i = 0; i < e->cfg.nr_vcpus; i++)
		if (!serve_requests(e, e->vcpus[i]))
			return e->failed ? false : fail(e, "drain: vcpu%u could not reload its root\n", i);
	/* Every step zaps at least one page while it has work: the drain ends within this many. */
	limit = mmu->stats.shadow_pages + 1;
	e->n.drained += mmu->stats.obsolete_pages;
	do {
		if (!zap_step(e, &more))
			return false;
	} while (more && ++steps < limit);
	if (more)
		return fail(e, "drain: mmu_zap_obsolete_step still returns true after %llu steps\n",
			    (unsigned long long)limit);
	if (mmu->stats.obsolete_pages)
		return fail(e, "drain: %llu obsolete pages left after every vCPU reloaded and the zapper finished\n",
			    (unsigned long long)mmu->stats.obsolete_pages);
	violations = mmu_audit(mmu, audit_report, e);
	if (violations)
		return fail(e, "drain: mmu_audit: %u violations\n", violations);
	if (!sim_check_page_accounting(e->sim) || e->sim->broken)
		return fail(e, "drain: host: %s\n", e->sim->why);
	e->sim->alloc_fail_permille = e->cfg.alloc_fail_permille;
	return true;
}

/* ---- the walker alone ---- */

bool diff_check_walk(struct diff_engine *e, struct diff_src *src)
{
	static const unsigned kinds[] = { 0, WALK_WRITE, WALK_FETCH };
	enum guest_paging_mode mode = below(src, 4);
	struct diff_vcpu vs = { .cpl = 0 };
	unsigned access = kinds[below(src, 3)];
	struct guest_paging g;
	struct guest_walk w;
	struct ref_result rr;
	uint64_t gva;
	unsigned i;

	memset(&g, 0, sizeof(g));
	g.cr0 = chance(src, 70) ? PG_CR0_WP : 0;
	g.cr4 = (chance(src, 40) ? PG_CR4_SMEP : 0) | (chance(src, 40) ? PG_CR4_SMAP : 0) |
		(chance(src, 60) ? PG_CR4_PSE : 0);
	g.efer = chance(src, 60) ? PG_EFER_NXE : 0;
	vs.space[mode] = below(src, DIFF_SPACES);
	enter_mode(e, &g, mode, vs.space[mode]);
	g.gbpages = chance(src, 50);
	if (mode == PAGING_PAE && !load_pdptes(e, &g))
		return !e->failed;
	if (chance(src, 50))
		access |= WALK_USER;
	else if (chance(src, 50))
		access |= WALK_SMAP_AC;
	vs.g = g;
	gva = pick_gva(e, src, &vs);

	ref_walk(&e->ref, &g, gva, access, &rr);
	guest_walk(&e->sim->mmu, &g, gva, access, &w);
	e->n.checks++;
	if (rr.fault != w.fault || (rr.fault && rr.error_code != w.error_code) ||
	    (!rr.fault && (rr.gpa != w.gpa || w.gfn != rr.gpa >> 12)))
		return fail(e, "guest_walk differs from the reference: %s gva %#llx access %#x cr0 %#llx cr4 %#llx "
			    "efer %#llx gbpages %d: reference %s %#llx, guest_walk %s %#llx\n",
			    mode_names[mode], (unsigned long long)gva, access, (unsigned long long)g.cr0,
			    (unsigned long long)g.cr4, (unsigned long long)g.efer, g.gbpages,
			    rr.fault ? "fault" : "gpa", (unsigned long long)(rr.fault ? rr.error_code : rr.gpa),
			    w.fault ? "fault" : "gpa", (unsigned long long)(w.fault ? w.error_code : w.gpa));
	e->n.faulted += rr.fault;
	e->n.translated += !rr.fault;
	for (i = 0; i < rr.nr_entries; i++)
		if (!compare_page(e, rr.entry_gpa[i]))
			return fail(e, "after walking %s gva %#llx access %#x\n", mode_names[mode],
				    (unsigned long long)gva, access);
	return true;
}

uint64_t diff_take_page(struct diff_engine *e, struct diff_src *src)
{
	return alloc_page(e, src);
}

void diff_poke(struct diff_engine *e, uint64_t gpa, unsigned size, uint64_t value)
{
	put_entry(e, gpa, size, value);
}

uint64_t diff_peek(struct diff_engine *e, uint64_t gpa, unsigned size)
{
	return ref_read(e, gpa, size);
}

/* ---- reporting ---- */

static const char *const kind_names[DIFF_OP_KINDS] = {
	"access", "guest-write", "invlpg", "set-cr3", "toggle", "set-mode", "zap-all", "unprotect", "memslot-changed",
	"memslot-update", "invalidate-all", "zap-step",
};
static const char *const slot_op_names[SLOT_OPS] = { "generation bump", "remove slot 1", "restore slot 1" };
static const char *const toggle_names[DIFF_TOGGLES] = { "CR0.WP", "EFER.NXE", "CR4.SMEP", "CR4.SMAP", "CR4.PSE", "CR4.PGE" };

void diff_format_op(const struct diff_op *op, char *buf, size_t size)
{
	const char *kind = op->kind < DIFF_OP_KINDS ? kind_names[op->kind] : "?";

	buf[0] = '\0';
	switch (op->kind) {
	case DIFF_MEMSLOT_UPDATE:
		snprintf(buf, size, "memslot-update %s%s", op->slot_op < SLOT_OPS ? slot_op_names[op->slot_op] : "?",
			 op->update_access ? ", meanwhile " : "");
		if (!op->update_access)
			break;
		/* The access made while the update is in progress. */
		__attribute__((fallthrough));
	case DIFF_ACCESS:
		snprintf(buf + strlen(buf), size - strlen(buf), "vcpu%u access gva=%#llx %s cpl=%u ac=%u", op->vcpu,
			 (unsigned long long)op->addr,
			 op->access == WALK_WRITE ? "write" : op->access == WALK_FETCH ? "fetch" : "read", op->cpl, op->ac);
		if (op->access == WALK_WRITE)
			snprintf(buf + strlen(buf), size - strlen(buf), " len=%u value=%#llx", op->len,
				 (unsigned long long)op->value);
		break;
	case DIFF_GUEST_WRITE:
		snprintf(buf, size, "vcpu%u guest-write gpa=%#llx len=%u value=%#llx%s", op->vcpu,
			 (unsigned long long)op->addr, op->len, (unsigned long long)op->value,
			 op->emulate ? " (forced emulated)" : "");
		break;
	case DIFF_TOGGLE:
		snprintf(buf, size, "vcpu%u set %s=%llu", op->vcpu, op->addr < DIFF_TOGGLES ? toggle_names[op->addr] : "?",
			 (unsigned long long)op->value);
		break;
	case DIFF_SET_MODE:
		snprintf(buf, size, "vcpu%u set-mode %s space %llu", op->vcpu, mode_names[op->addr % 4],
			 (unsigned long long)op->value);
		break;
	case DIFF_INVALIDATE:
		snprintf(buf, size, "invalidate-all");
		break;
	case DIFF_ZAP_STEP:
		snprintf(buf, size, "zap-step x%llu", (unsigned long long)(1 + (op->value + 3) % 4));
		break;
	default:
		snprintf(buf, size, "vcpu%u %s %#llx", op->vcpu, kind, (unsigned long long)op->addr);
		break;
	}
}

void diff_print_failure(const struct diff_engine *e)
{
	uint64_t first = e->log_next > DIFF_LOG ? e->log_next - DIFF_LOG : 0, i;
	char buf[160];

	printf("diff: FAILED after %llu operations (mode %s, %u vCPUs, gbpages %d, maxphyaddr %u, "
	       "max_shadow_pages %u, alloc_fail %u/1000, zap=%s)\n%s",
	       (unsigned long long)e->n.ops, mode_names[e->cfg.mode], e->cfg.nr_vcpus, e->cfg.gbpages,
	       e->cfg.maxphyaddr, e->cfg.max_shadow_pages, e->cfg.alloc_fail_permille,
	       e->cfg.zap_slow ? "slow" : "fast", e->failure);
	printf("diff: the last operations (the final one failed):\n");
	for (i = first; i < e->log_next; i++) {
		diff_format_op(&e->log[i % DIFF_LOG], buf, sizeof(buf));
		printf("  #%llu %s\n", (unsigned long long)i, buf);
	}
	for (i = 0; i < e->cfg.nr_vcpus; i++)
		printf("diff: vcpu%llu cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx\n", (unsigned long long)i,
		       (unsigned long long)e->vs[i].g.cr0, (unsigned long long)e->vs[i].g.cr3,
		       (unsigned long long)e->vs[i].g.cr4, (unsigned long long)e->vs[i].g.efer);
}
