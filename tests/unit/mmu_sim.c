/* The simulated host behind the MMU hooks, and the CPU that walks the shadow tables the way a real one would. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "mmu/shadow_page.h"
#include "mmu/spte.h"
#include "tests/unit/mmu_sim.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(__SANITIZE_ADDRESS__)
#define __SANITIZE_ADDRESS__ 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

#define PAGE_SIZE 4096ull
/* Guest RAM sits at fake host addresses, slot 0 above 4 GiB and slot 1 below. */
static const uint64_t slot_host_pa[SIM_MAX_SLOTS] = { 0x100000000ull, 0x80000000ull };

static struct sim *sim_of(struct mmu *mmu)
{
	return (struct sim *)((char *)mmu - offsetof(struct sim, mmu));
}

static struct sim_vcpu *sim_vcpu_of(struct mmu_vcpu *v)
{
	return (struct sim_vcpu *)((char *)v - offsetof(struct sim_vcpu, v));
}

void sim_break(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->broken)
		return;
	s->broken = true;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

/* Zeroed memory from mmap: only the pages a run touches cost anything, which keeps fuzzing iterations cheap. */
void *sim_ram_alloc(uint64_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void sim_ram_free(void *p, uint64_t bytes)
{
	munmap(p, bytes);
}

static void pool_init(struct sim_pool *pool, uint64_t base_pa, unsigned size, bool arena)
{
	unsigned i;

	memset(pool, 0, sizeof(*pool));
	pool->base_pa = base_pa;
	pool->size = size;
	pool->pages = calloc(size, sizeof(*pool->pages));
	pool->free_ring = calloc(size, sizeof(*pool->free_ring));
	for (i = 0; i < size; i++)
		pool->free_ring[i] = i;
	pool->free_count = size;
	if (arena) {
		pool->arena = mmap(NULL, (uint64_t)size * PAGE_SIZE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (pool->arena == MAP_FAILED)
			abort();
		/* Only freed pages are poisoned: the MMU holds no pointer to a page never handed out. */
		pool->handed_out = calloc(size, 1);
	}
}

static void pool_destroy(struct sim_pool *pool)
{
	if (pool->arena) {
		unsigned i;

		/* The next mapping there must not inherit the poison of freed pages. */
		for (i = 0; i < pool->size; i++)
			if (pool->handed_out[i])
				UNPOISON(pool->arena + (uint64_t)i * PAGE_SIZE, PAGE_SIZE);
		munmap(pool->arena, (uint64_t)pool->size * PAGE_SIZE);
		free(pool->handed_out);
	} else {
		unsigned i;

		for (i = 0; i < pool->size; i++)
			free(pool->pages[i]);
	}
	free(pool->pages);
	free(pool->free_ring);
}

static void sim_setup(struct sim *s, uint64_t slot0_pages, uint64_t slot1_base_gfn, uint64_t slot1_pages,
		      uint64_t seed, unsigned pool_pages, bool arena)
{
	uint64_t base_gfn[SIM_MAX_SLOTS] = { 0, slot1_base_gfn };
	uint64_t npages[SIM_MAX_SLOTS] = { slot0_pages, slot1_pages };
	unsigned i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < SIM_MAX_SLOTS && npages[i]; i++) {
		s->slots[i].base_gfn = base_gfn[i];
		s->slots[i].npages = npages[i];
		s->slots[i].host_pa = slot_host_pa[i];
		s->slots[i].mem = sim_ram_alloc(npages[i] * PAGE_SIZE);
		s->nr_slots++;
	}
	if (pool_pages > SIM_MAX_POOL_PAGES)
		pool_pages = SIM_MAX_POOL_PAGES;
	pool_init(&s->low, SIM_LOW_POOL_BASE, pool_pages, arena);
	pool_init(&s->high, SIM_HIGH_POOL_BASE, pool_pages, arena);
	s->alloc_rng = seed;
	s->memslot_generation = MEMSLOT_GEN_INITIAL;
}

void sim_init(struct sim *s, uint64_t slot0_pages, uint64_t slot1_base_gfn, uint64_t slot1_pages, uint64_t seed)
{
	sim_setup(s, slot0_pages, slot1_base_gfn, slot1_pages, seed, SIM_POOL_PAGES, false);
}

void sim_init_pools(struct sim *s, uint64_t slot0_pages, uint64_t slot1_base_gfn, uint64_t slot1_pages,
		    uint64_t seed, unsigned pool_pages)
{
	sim_setup(s, slot0_pages, slot1_base_gfn, slot1_pages, seed, pool_pages, true);
}

void sim_pools_accessible(struct sim *s, bool accessible)
{
	struct sim_pool *pools[2] = { &s->low, &s->high };
	unsigned i;

	for (i = 0; i < 2; i++)
		if (pools[i]->arena &&
		    mprotect(pools[i]->arena, (uint64_t)pools[i]->size * PAGE_SIZE,
			     accessible ? PROT_READ | PROT_WRITE : PROT_NONE))
			abort();
}

uint64_t mmu_host_memslot_generation(struct mmu *mmu)
{
	return sim_of(mmu)->memslot_generation;
}

void sim_memslot_update_begin(struct sim *s)
{
	if (s->memslot_generation & MEMSLOT_GEN_UPDATE_IN_PROGRESS)
		sim_break(s, "memslot update begun while one is in progress");
	s->memslot_generation |= MEMSLOT_GEN_UPDATE_IN_PROGRESS;
}

bool sim_memslot_update_end(struct sim *s)
{
	if (!(s->memslot_generation & MEMSLOT_GEN_UPDATE_IN_PROGRESS))
		sim_break(s, "memslot update ended while none is in progress");
	s->memslot_generation = (s->memslot_generation & ~MEMSLOT_GEN_UPDATE_IN_PROGRESS) + 1;
	return mmu_mmio_generation_changed(&s->mmu, s->memslot_generation);
}

void sim_slot_remove(struct sim *s, unsigned id)
{
	if (!(s->memslot_generation & MEMSLOT_GEN_UPDATE_IN_PROGRESS))
		sim_break(s, "slot %u removed outside a memslot update", id);
	s->slots[id].removed = true;
}

void sim_slot_restore(struct sim *s, unsigned id)
{
	if (!(s->memslot_generation & MEMSLOT_GEN_UPDATE_IN_PROGRESS))
		sim_break(s, "slot %u restored outside a memslot update", id);
	s->slots[id].removed = false;
}

void sim_destroy(struct sim *s)
{
	unsigned i;

	if (s->pages_in_use)
		sim_break(s, "%u host pages never freed", s->pages_in_use);
	for (i = 0; i < s->nr_slots; i++)
		sim_ram_free(s->slots[i].mem, s->slots[i].npages * PAGE_SIZE);
	pool_destroy(&s->low);
	pool_destroy(&s->high);
}

static uint64_t list_pages(const struct shadow_page *sp)
{
	uint64_t n = 0;

	for (; sp; sp = sp->active_next)
		n += 1 + (sp->gfns != NULL) + (sp->children != NULL);
	return n;
}

bool sim_check_page_accounting(struct sim *s)
{
	const struct mmu *mmu = &s->mmu;
	uint64_t expected = list_pages(mmu->active_head) + list_pages(mmu->zapped_roots) +
			    mmu->sp_cache.pages_allocated + mmu->rmap_desc_cache.pages_allocated +
			    mmu->gfn_rmaps.pages_allocated + mmu->nr_vcpus;

	if (expected == s->pages_in_use)
		return true;
	sim_break(s, "the MMU holds %u host pages, its structures account for %llu", s->pages_in_use,
		  (unsigned long long)expected);
	return false;
}

void sim_vcpu_reset(struct sim_vcpu *sv, struct sim *s)
{
	memset(sv, 0, sizeof(*sv));
	sv->sim = s;
	sv->tlb_gen = 1;
}

static uint64_t sim_rand(struct sim *s)
{
	uint64_t z = (s->alloc_rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void *mmu_host_alloc_page(struct mmu *mmu, bool below_4g, uint64_t *pa)
{
	struct sim *s = sim_of(mmu);
	struct sim_pool *pool;
	unsigned idx;
	void *page;

	if (s->alloc_fail_permille && sim_rand(s) % 1000 < s->alloc_fail_permille) {
		s->alloc_failures++;
		return NULL;
	}
	pool = (below_4g || (sim_rand(s) & 1)) ? &s->low : &s->high;
	if (!pool->free_count) {
		sim_break(s, "host page pool exhausted (%u pages in use): the MMU leaks pages", s->pages_in_use);
		return NULL;
	}
	idx = pool->free_ring[pool->free_head];
	pool->free_head = (pool->free_head + 1) % pool->size;
	pool->free_count--;
	if (pool->arena) {
		page = pool->arena + (uint64_t)idx * PAGE_SIZE;
		UNPOISON(page, PAGE_SIZE);
		/* A page never handed out is still the mmap's zero page: leaving it untouched keeps it free. */
		if (pool->handed_out[idx])
			memset(page, 0, PAGE_SIZE);
		pool->handed_out[idx] = 1;
	} else {
		page = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
		memset(page, 0, PAGE_SIZE);
	}
	pool->pages[idx] = page;
	s->pages_in_use++;
	*pa = pool->base_pa + idx * PAGE_SIZE;
	return page;
}

static struct sim_pool *pool_of(struct sim *s, uint64_t pa, unsigned *idx)
{
	struct sim_pool *pools[2] = { &s->low, &s->high };
	unsigned i;

	for (i = 0; i < 2; i++) {
		if (pa >= pools[i]->base_pa && pa < pools[i]->base_pa + (uint64_t)pools[i]->size * PAGE_SIZE) {
			*idx = (pa - pools[i]->base_pa) / PAGE_SIZE;
			return pools[i];
		}
	}
	return NULL;
}

void mmu_host_free_page(struct mmu *mmu, void *page, uint64_t pa)
{
	struct sim *s = sim_of(mmu);
	unsigned idx;
	struct sim_pool *pool = pool_of(s, pa, &idx);

	if (!pool || (pa & (PAGE_SIZE - 1)) || pool->pages[idx] != page || !page) {
		sim_break(s, "free of host page %p at pa %#llx that the host did not hand out there", page,
			  (unsigned long long)pa);
		return;
	}
	if (pool->arena)
		POISON(page, PAGE_SIZE);
	else
		free(page);
	pool->pages[idx] = NULL;
	pool->free_ring[(pool->free_head + pool->free_count) % pool->size] = idx;
	pool->free_count++;
	s->pages_in_use--;
}

void *sim_host_page(struct sim *s, uint64_t pa)
{
	unsigned idx;
	struct sim_pool *pool = pool_of(s, pa, &idx);

	return pool ? pool->pages[idx] : NULL;
}

static const struct sim_slot *slot_of_gfn(const struct sim *s, uint64_t gfn, unsigned *id)
{
	unsigned i;

	for (i = 0; i < s->nr_slots; i++) {
		if (s->slots[i].removed)
			continue;
		if (gfn >= s->slots[i].base_gfn && gfn - s->slots[i].base_gfn < s->slots[i].npages) {
			*id = i;
			return &s->slots[i];
		}
	}
	return NULL;
}

bool mmu_host_memslot(struct mmu *mmu, uint64_t gfn, struct mmu_memslot *slot)
{
	unsigned id;
	const struct sim_slot *ss = slot_of_gfn(sim_of(mmu), gfn, &id);

	if (!ss)
		return false;
	slot->id = id;
	slot->base_gfn = ss->base_gfn;
	slot->npages = ss->npages;
	slot->host_pa = ss->host_pa;
	slot->readonly = false;
	return true;
}

void *sim_guest_ptr(struct sim *s, uint64_t gpa, uint64_t len)
{
	unsigned id;
	const struct sim_slot *ss = slot_of_gfn(s, gpa >> 12, &id);
	uint64_t off;

	if (!ss || len == 0)
		return NULL;
	off = gpa - ss->base_gfn * PAGE_SIZE;
	if (len > ss->npages * PAGE_SIZE - off)
		return NULL;
	return ss->mem + off;
}

void *mmu_host_guest_ptr(struct mmu *mmu, uint64_t gpa, uint64_t len)
{
	return sim_guest_ptr(sim_of(mmu), gpa, len);
}

bool sim_host_pa_to_gpa(const struct sim *s, uint64_t host_pa, uint64_t *gpa)
{
	unsigned i;

	for (i = 0; i < s->nr_slots; i++) {
		const struct sim_slot *ss = &s->slots[i];

		if (ss->removed)
			continue;
		if (host_pa >= ss->host_pa && host_pa - ss->host_pa < ss->npages * PAGE_SIZE) {
			*gpa = ss->base_gfn * PAGE_SIZE + (host_pa - ss->host_pa);
			return true;
		}
	}
	return false;
}

void mmu_host_request(struct mmu_vcpu *vcpu, unsigned requests)
{
	struct sim_vcpu *sv = sim_vcpu_of(vcpu);

	if (requests & ~(MMU_REQ_TLB_FLUSH | MMU_REQ_RELOAD_ROOT))
		sim_break(sv->sim, "unknown request bits %#x", requests);
	sv->requests |= requests;
}

void sim_tlb_flush_all(struct sim_vcpu *sv)
{
	sv->tlb_gen++;
	sv->nr_flush_all++;
}

static struct sim_tlb_entry *tlb_slot(struct sim_vcpu *sv, uint64_t vpn)
{
	return &sv->tlb[(vpn ^ (vpn >> 12) ^ (vpn >> 24)) % SIM_TLB_ENTRIES];
}

void sim_tlb_flush_gva(struct sim_vcpu *sv, uint64_t gva)
{
	struct sim_tlb_entry *e = tlb_slot(sv, gva >> 12);

	if (e->vpn == gva >> 12)
		e->gen = 0;
}

void mmu_host_flush_gva(struct mmu_vcpu *vcpu, uint64_t gva)
{
	struct sim_vcpu *sv = sim_vcpu_of(vcpu);

	sv->nr_flush_gva++;
	sim_tlb_flush_gva(sv, gva);
}

void mmu_host_inject_page_fault(struct mmu_vcpu *vcpu, uint64_t gva, uint32_t error_code)
{
	struct sim_vcpu *sv = sim_vcpu_of(vcpu);

	if (sv->injected)
		sim_break(sv->sim, "#PF injected at %#llx while one at %#llx is still pending",
			  (unsigned long long)gva, (unsigned long long)sv->inject_cr2);
	sv->injected = true;
	sv->inject_cr2 = gva;
	sv->inject_error_code = error_code;
}

/* Bits lo..hi inclusive. */
static uint64_t bits(unsigned lo, unsigned hi)
{
	return (hi == 63 ? ~0ull : (1ull << (hi + 1)) - 1) & ~((1ull << lo) - 1);
}

/* The CPU's own permission check (SDM 4.6) with CR0.WP = 1 and EFER.NXE = 1. */
static bool cpu_allows(const struct guest_paging *g, unsigned access, bool writable, bool user, bool nx)
{
	/* The host clears SMEP/SMAP while the guest's paging is off: they must not bite on the identity map. */
	bool paging = g->cr0 & PG_CR0_PG;
	bool smep = paging && (g->cr4 & PG_CR4_SMEP);
	bool smap = paging && (g->cr4 & PG_CR4_SMAP) && !(access & WALK_SMAP_AC);

	if (access & WALK_FETCH) {
		if (nx)
			return false;
		return (access & WALK_USER) ? user : !(user && smep);
	}
	if (access & WALK_USER)
		return user && (!(access & WALK_WRITE) || writable);
	if (user && smap)
		return false;
	return !(access & WALK_WRITE) || writable;
}

static uint32_t fault_code(unsigned access)
{
	/* With EFER.NXE = 1 the CPU reports I/D on every fetch fault. */
	return access & (PFERR_WRITE | PFERR_USER | PFERR_FETCH);
}

/* The spte table at pa, which must be a host page the MMU holds. */
static uint64_t *spte_table(struct sim_vcpu *sv, uint64_t pa, uint64_t gva, unsigned level)
{
	uint64_t *t = sim_host_page(sv->sim, pa);

	if (!t)
		sim_break(sv->sim, "gva %#llx: level-%u shadow table at host pa %#llx is no page the MMU holds",
			  (unsigned long long)gva, level, (unsigned long long)pa);
	return t;
}

static enum sim_cpu_result walk_shadow(struct sim_vcpu *sv, const struct guest_paging *g, uint64_t gva,
				       unsigned access, struct sim_tlb_entry *out, uint32_t *error_code)
{
	bool four_level = g->efer & PG_EFER_LMA;
	uint64_t rsvd = four_level ? bits(SIM_HOST_MAXPHYADDR, 51) : bits(SIM_HOST_MAXPHYADDR, 62);
	uint64_t *used[4];
	unsigned nr_used = 0, level, i, page_shift = 12;
	uint64_t table_pa, spte = 0;
	bool writable = true, user = true, nx = false;

	if (!sv->root_loaded) {
		sim_break(sv->sim, "guest ran without a loaded root");
		return SIM_CPU_BROKEN;
	}
	if (four_level) {
		table_pa = sv->root_pa & bits(12, SIM_HOST_MAXPHYADDR - 1);
		level = 4;
	} else {
		uint64_t *pae_root, pdpte;

		gva &= 0xffffffffull;
		if (sv->root_pa >> 32) {
			sim_break(sv->sim, "PAE root at host pa %#llx above 4 GiB", (unsigned long long)sv->root_pa);
			return SIM_CPU_BROKEN;
		}
		pae_root = spte_table(sv, sv->root_pa & ~(PAGE_SIZE - 1), gva, 3);
		if (!pae_root)
			return SIM_CPU_BROKEN;
		pdpte = pae_root[((sv->root_pa & 0xfe0) / 8) + ((gva >> 30) & 3)];
		if ((pdpte & GPTE_PRESENT) && (pdpte & (bits(1, 2) | bits(5, 8) | bits(SIM_HOST_MAXPHYADDR, 63)))) {
			sim_break(sv->sim, "PAE root entry %llu = %#llx sets reserved bits: VM entry fails",
				  (unsigned long long)((gva >> 30) & 3), (unsigned long long)pdpte);
			return SIM_CPU_BROKEN;
		}
		if (!(pdpte & GPTE_PRESENT)) {
			*error_code = fault_code(access);
			return SIM_CPU_FAULT;
		}
		table_pa = pdpte & bits(12, SIM_HOST_MAXPHYADDR - 1);
		level = 2;
	}

	for (;; level--) {
		uint64_t *table = spte_table(sv, table_pa, gva, level);
		const struct shadow_page *sp = sp_from_pa(&sv->sim->mmu, table_pa);
		bool large;

		if (!table)
			return SIM_CPU_BROKEN;
		/* Obsolete and zapped pages may be stale: the host reloads roots before every entry so that no walk meets one. */
		if (!sp || !sp_usable(&sv->sim->mmu, sp)) {
			sim_break(sv->sim, "gva %#llx: the CPU walked a%s level-%u shadow page at host pa %#llx",
				  (unsigned long long)gva, !sp ? " missing" : sp->role.invalid ? "n invalid" : "n obsolete",
				  level, (unsigned long long)table_pa);
			return SIM_CPU_BROKEN;
		}
		used[nr_used] = &table[(gva >> (12 + 9 * (level - 1))) & 511];
		spte = *used[nr_used++];
		if (!(spte & SPTE_PRESENT)) {
			*error_code = fault_code(access);
			return SIM_CPU_FAULT;
		}
		large = (level == 2 || (level == 3 && four_level)) && (spte & GPTE_LARGE);
		/* Reserved bits fault before any permission is looked at, whatever the access (SDM 4.7). */
		if ((spte & rsvd) || (level == 4 && (spte & GPTE_LARGE)) ||
		    (large && (spte & bits(13, level == 3 ? 29 : 20)))) {
			*error_code = fault_code(access) | PFERR_PRESENT | PFERR_RSVD;
			sv->nr_rsvd_faults++;
			return SIM_CPU_FAULT;
		}
		writable = writable && (spte & SPTE_WRITABLE);
		user = user && (spte & SPTE_USER);
		nx = nx || (spte & SPTE_NX);
		if (large || level == 1) {
			page_shift = 12 + 9 * (level - 1);
			break;
		}
		table_pa = spte & bits(12, SIM_HOST_MAXPHYADDR - 1);
	}
	if (!cpu_allows(g, access, writable, user, nx)) {
		*error_code = fault_code(access) | PFERR_PRESENT;
		return SIM_CPU_FAULT;
	}
	for (i = 0; i < nr_used; i++)
		*used[i] |= SPTE_ACCESSED;
	if (access & WALK_WRITE)
		*used[nr_used - 1] |= SPTE_DIRTY;
	out->frame_pa = (spte & bits(page_shift, SIM_HOST_MAXPHYADDR - 1)) | (gva & bits(12, page_shift - 1));
	out->writable = writable;
	out->user = user;
	out->nx = nx;
	out->dirty = *used[nr_used - 1] & SPTE_DIRTY;
	return SIM_CPU_OK;
}

enum sim_cpu_result sim_cpu_access(struct sim_vcpu *sv, const struct guest_paging *g, uint64_t gva,
				   unsigned access, uint64_t *host_pa, uint32_t *error_code)
{
	uint64_t vpn = (g->efer & PG_EFER_LMA) ? gva >> 12 : (gva & 0xffffffffull) >> 12;
	struct sim_tlb_entry *e = tlb_slot(sv, vpn);
	struct sim_tlb_entry walked;
	enum sim_cpu_result r;
	uint64_t gpa;

	if (e->gen == sv->tlb_gen && e->vpn == vpn) {
		if (!cpu_allows(g, access, e->writable, e->user, e->nx)) {
			/* A fault from a cached translation: possibly stale, so the MMU sees a spurious fault. */
			e->gen = 0;
			*error_code = fault_code(access) | PFERR_PRESENT;
			return SIM_CPU_FAULT;
		}
		/* A write through a clean cached translation makes the CPU walk again to set D. */
		if (!(access & WALK_WRITE) || e->dirty) {
			*host_pa = e->frame_pa | (gva & 0xfff);
			return SIM_CPU_OK;
		}
	}
	r = walk_shadow(sv, g, gva, access, &walked, error_code);
	if (r == SIM_CPU_FAULT)
		sim_tlb_flush_gva(sv, vpn << 12);
	if (r != SIM_CPU_OK)
		return r;
	if (!sim_host_pa_to_gpa(sv->sim, walked.frame_pa, &gpa)) {
		sim_break(sv->sim, "gva %#llx: leaf spte maps host pa %#llx, which is no guest RAM",
			  (unsigned long long)gva, (unsigned long long)walked.frame_pa);
		return SIM_CPU_BROKEN;
	}
	walked.vpn = vpn;
	walked.gen = sv->tlb_gen;
	*e = walked;
	*host_pa = walked.frame_pa | (gva & 0xfff);
	return SIM_CPU_OK;
}

bool sim_host_init(struct sim_host *h, uint64_t slot0_pages, uint64_t slot1_base_gfn, uint64_t slot1_pages,
		   uint64_t max_shadow_pages, unsigned pool_pages)
{
	if (pool_pages)
		sim_init_pools(&h->s, slot0_pages, slot1_base_gfn, slot1_pages, 1, pool_pages);
	else
		sim_init(&h->s, slot0_pages, slot1_base_gfn, slot1_pages, 1);
	if (!mmu_init(&h->s.mmu, 40, max_shadow_pages))
		return false;
	sim_vcpu_reset(&h->sv, &h->s);
	if (!mmu_vcpu_init(&h->s.mmu, &h->sv.v))
		return false;
	h->g.cr0 = 1;	/* PE */
	h->g.maxphyaddr = 40;
	mmu_set_paging(&h->sv.v, &h->g);
	return true;
}

bool sim_host_serve_requests(struct sim_host *h)
{
	unsigned req = h->sv.requests;

	h->sv.requests = 0;
	if (req & MMU_REQ_RELOAD_ROOT) {
		if (mmu_load_root(&h->sv.v, &h->sv.root_pa))
			return false;
		h->sv.root_loaded = true;
	}
	if (req)
		sim_tlb_flush_all(&h->sv);
	return true;
}
