/* The shadow MMU's interface to the VMM: per-VM state, per-vCPU state, the fault path and the guest-state events. */
#ifndef MMU_MMU_H
#define MMU_MMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mmu/guest_walk.h"
#include "mmu/obj_cache.h"
#include "mmu/paging.h"
#include "mmu/gfn_rmap.h"
#include "mmu/rmap.h"

#define MMU_MAX_MEMSLOTS	8
#define MMU_MAX_VCPUS		8
#define MMU_HASH_BUCKETS	1024
#define MMU_PREV_ROOTS		3
/* A fault may need a new page at every level, and roots are never recycled. */
#define MMU_MIN_SHADOW_PAGES	64
/*
 * The longest rmap a gfn keeps: removing an spte searches its chain, so a
 * longer one is dropped whole (see recycle_rmap() in fault.c).  Far above
 * what guests map one page at (KVM uses 1000); a search of this many
 * pointers takes a few microseconds.
 */
#define MMU_RMAP_RECYCLE_THRESHOLD	8192
/* gfn rmaps cover this many pages of a memslot: larger memslots cannot be shadowed. */
#define MMU_MAX_MEMSLOT_PAGES	GFN_RMAP_MAX_SLOT_PAGES

struct shadow_page;
struct mmu_vcpu;

struct mmu_stats {
	uint64_t pf_fixed;		/* faults that installed an spte */
	uint64_t pf_guest;		/* faults the guest's own tables raised: injected */
	uint64_t pf_spurious;		/* faults whose spte was already right (a stale TLB entry) */
	uint64_t pf_emulate;		/* writes to write-protected guest tables sent to the emulator */
	uint64_t pf_mmio;		/* faults on guest-physical addresses without RAM */
	uint64_t mmu_cache_miss;	/* shadow pages created */
	uint64_t mmu_shadow_zapped;	/* shadow pages zapped */
	uint64_t mmu_pte_write;		/* emulated writes to shadowed guest tables */
	uint64_t mmu_flooded;		/* shadow pages zapped for write flooding or misaligned writes */
	uint64_t mmu_recycled;		/* shadow pages zapped to stay under the page limit */
	uint64_t invlpg;
	uint64_t root_reuse;		/* CR3 switches served from the cached previous roots */
	uint64_t max_rmap_chain;	/* the longest rmap (sptes mapping one gfn) seen */
	uint64_t rmap_recycled;		/* rmaps dropped whole for reaching the threshold */
	uint64_t shadow_pages;		/* shadow pages in use now (obsolete ones not yet freed included) */
	/* MMIO (both mmu modes; the VMM counts exits, the MMU or the EPT code the rest). */
	uint64_t mmio_exits;		/* exits that ended in an emulated MMIO access */
	uint64_t mmio_fast;		/* served from an MMIO spte of the current generation */
	uint64_t mmio_slow;		/* went through the full fault path (no spte, stale, or caching off) */
	uint64_t mmio_spte_created;
	uint64_t mmio_generation_misses;	/* MMIO sptes found stale by the fast path */
	uint64_t mmio_invalidations;	/* generation bumps: every MMIO spte made stale at once */
	uint64_t mmio_generation_wraps;	/* ... of which wrapped the stored bits and zapped everything */
	/* Invalidating all shadow pages (obsolete-page zapping). */
	uint64_t invalidations;		/* mmu_invalidate_all() calls (and slow zap-alls) */
	uint64_t obsolete_zapped;	/* obsolete pages zapped (by the batches, to make room, or by a slow zap-all) */
	uint64_t zap_batches;		/* mmu_zap_obsolete_step() calls that zapped at least one page */
	uint64_t zap_longest_batch;	/* the most pages one batch zapped (at most MMU_ZAP_BATCH) */
	uint64_t obsolete_pages;	/* obsolete pages not yet freed now (included in shadow_pages) */
};

/* Per VM.  Embedded in the host's VM structure; the host's hooks get it back with container_of. */
struct mmu {
	struct shadow_page *hash[MMU_HASH_BUCKETS];	/* by (gfn, role) */
	struct shadow_page *by_pa[MMU_HASH_BUCKETS];	/* by the host address of the shadow table */
	/*
	 * Every shadow page that is not invalid, in creation order, newest at
	 * the head.  Generations only grow, so the obsolete pages are a run at
	 * the tail: the zapper takes them from there and stops at the first
	 * current page.
	 */
	struct shadow_page *active_head, *active_tail;
	/* Pages zapped while still used as roots (role.invalid): freed with their last root reference. */
	struct shadow_page *zapped_roots;
	/* The valid generation: pages made in an older one are obsolete.  64 bits: it never wraps. */
	uint64_t valid_gen;
	struct obj_cache sp_cache, rmap_desc_cache;
	struct gfn_rmaps gfn_rmaps;
	uint64_t max_shadow_pages;
	uint64_t rmap_recycle_threshold;	/* MMU_RMAP_RECYCLE_THRESHOLD; tests lower it */
	struct mmu_vcpu *vcpus[MMU_MAX_VCPUS];
	unsigned nr_vcpus;
	unsigned guest_maxphyaddr;
	bool host_nx;			/* the CPU can run guests with EFER.NXE (true unless the host set it false) */
	bool mmio_caching;		/* MMIO sptes in use (default true; off with mmio_caching=0 or without a reserved bit) */
	bool zap_slow;			/* zap=slow: invalidations walk and zap every page at once */
	struct mmu_stats stats;
};

/* Per vCPU.  Embedded in the host's vCPU structure. */
struct mmu_vcpu {
	struct mmu *mmu;
	struct guest_paging paging;		/* the guest's view of CR0/CR3/CR4/EFER/PDPTEs */
	uint32_t root_role;			/* role word the current paging mode gives root pages */
	bool root_valid;			/* root_pa is loaded and current */
	uint64_t root_pa;			/* what the CPU's CR3 holds while the guest runs */
	struct shadow_page *root_sp;		/* 4-level root; NULL with the PAE root */
	uint64_t *pae_root;			/* 4 PDPTEs (below 4 GiB) for PAE, 32-bit and paging-off guests */
	uint64_t pae_root_pa;
	struct shadow_page *pae_root_sps[4];
	/* The last fault was spurious, at spurious_gva (see spurious_fault() in fault.c). */
	bool spurious_valid;
	uint64_t spurious_gva;
	struct {
		uint64_t cr3;
		uint32_t role;
		struct shadow_page *sp;
	} prev_roots[MMU_PREV_ROOTS];
};

/*
 * Sets up an empty MMU for a VM whose guests see maxphyaddr physical address
 * bits; at most max_shadow_pages (at least MMU_MIN_SHADOW_PAGES) shadow
 * tables exist at once (the oldest are zapped to make room).  False when
 * host memory is short.
 */
bool mmu_init(struct mmu *mmu, unsigned guest_maxphyaddr, uint64_t max_shadow_pages);
/* Frees every shadow page, rmap and descriptor.  No vCPU may run afterwards. */
void mmu_destroy(struct mmu *mmu);

/* Attaches a vCPU (paging off, no root yet: MMU_REQ_RELOAD_ROOT is requested). False when the PAE root cannot be allocated. */
bool mmu_vcpu_init(struct mmu *mmu, struct mmu_vcpu *v);
void mmu_vcpu_destroy(struct mmu_vcpu *v);

/*
 * The guest changed CR0, CR3, CR4 or EFER (the host has already checked the
 * write and, for PAE paging, loaded the PDPTEs into p->pdptes).  Works out
 * what the change invalidates as the SDM says a CPU would: a new CR3 or a
 * changed mode or permission bit switches roots and flushes; other changes
 * (CR0.CD, CR4.PGE toggling) flush the TLB only.
 */
void mmu_set_paging(struct mmu_vcpu *v, const struct guest_paging *p);

/*
 * Serves MMU_REQ_RELOAD_ROOT: finds or builds the shadow root for the
 * current CR3 and mode, returns 0 with *root_pa for the CPU's CR3, or -1
 * when host memory is short.  A zapped or obsolete root, and such cached
 * previous roots, are dropped (and freed when nothing else uses them):
 * the host must serve the request before the next guest entry, so that no
 * vCPU ever runs on an obsolete page.
 */
int mmu_load_root(struct mmu_vcpu *v, uint64_t *root_pa);

/* Results of mmu_page_fault(), in the spirit of KVM's RET_PF_*. */
enum mmu_pf_result {
	MMU_PF_RETRY,		/* the spte is fixed (or was already right): resume, the access retries */
	MMU_PF_INJECTED,	/* the guest's own tables fault: #PF went to the guest via the hook */
	MMU_PF_EMULATE,		/* a write to a write-protected guest table, or a CR0.WP = 0 write no leaf can allow exactly: emulate the instruction */
	MMU_PF_MMIO,		/* no RAM at *gpa (gva's page maps *gpa's): the access is for a device (or nothing) */
	MMU_PF_NO_MEMORY,	/* the host has no page for a shadow table or rmap descriptor */
	MMU_PF_BAD_FAULT,	/* a fault the MMU cannot have caused (RSVD on an spte that is not MMIO): a VMM bug */
};

/*
 * A #PF the CPU raised on the shadow tables: gva (from the exit
 * qualification), the hardware error code, the guest's CPL and EFLAGS.AC
 * (needed for SMAP).  *gpa is set for MMU_PF_EMULATE and MMU_PF_MMIO.
 *
 * MMIO: a fault on a gfn no memslot backs installs an MMIO spte (with
 * mmio_caching) and returns MMU_PF_MMIO.  A fault with PFERR_RSVD takes the
 * fast path: it reads the leaf for gva from the current root (no guest walk,
 * no memslot lookup) and, when it is an MMIO spte of the current generation
 * whose access allows this fault's, returns MMU_PF_MMIO at once
 * (mmio_fast).  Otherwise the spte is zapped (mmio_generation_misses when it
 * was stale) and the fault goes the full way (mmio_slow): MMU_PF_MMIO with
 * a new spte, MMU_PF_RETRY when the gfn is RAM now, or MMU_PF_INJECTED.
 */
enum mmu_pf_result mmu_page_fault(struct mmu_vcpu *v, uint64_t gva, uint32_t error_code,
				  unsigned cpl, bool eflags_ac, uint64_t *gpa);

/*
 * Translation for the emulator and other VMM accesses on the guest's behalf
 * (access = WALK_* flags).  Sets A/D bits like the CPU.  Returns true with
 * *gpa, or false with the #PF error code to inject.
 */
bool mmu_gva_to_gpa(struct mmu_vcpu *v, uint64_t gva, unsigned access, uint64_t *gpa,
		    uint32_t *error_code);

/*
 * The emulator writes len bytes (1..8, within one page) at gpa on the guest's
 * behalf: stores them in guest memory and zaps the sptes built from the guest
 * entries they overwrite, or the whole shadow page when the write is
 * misaligned or the page is written too often (write flooding).  False when
 * gpa is not RAM.
 */
bool mmu_emulated_write(struct mmu_vcpu *v, uint64_t gpa, const void *data, unsigned len);

/* Zaps every shadow page of gfn so the guest may write it directly (the emulator could not decode the write). */
void mmu_unprotect_gfn(struct mmu *mmu, uint64_t gfn);

/* The guest executed INVLPG gva. */
void mmu_invlpg(struct mmu_vcpu *v, uint64_t gva);

/*
 * Zaps every shadow page now, current and obsolete, walking them all (roots
 * are reloaded on every vCPU): the slow way (zap=slow).  Counts an
 * invalidation.
 */
void mmu_zap_all(struct mmu *mmu);

/* Obsolete shadow pages one mmu_zap_obsolete_step() zaps at most. */
#define MMU_ZAP_BATCH	10

/*
 * Invalidates every shadow page in O(1), touching none: advances the MMU's
 * valid generation, so that every existing page is obsolete (hash lookups
 * skip it, it is never reused), and asks every vCPU to reload its root
 * (and flush) before its next entry, so no vCPU runs on an obsolete root.
 * With mmu->zap_slow it calls mmu_zap_all() instead.  The obsolete pages
 * are freed by mmu_zap_obsolete_step(), oldest first, and reclaimed first
 * when shadow pages run short.
 */
void mmu_invalidate_all(struct mmu *mmu);

/*
 * Zaps up to MMU_ZAP_BATCH obsolete pages from the oldest end of the active
 * list, with one TLB-flush request for the batch (stats zap_batches,
 * zap_longest_batch, obsolete_zapped; nothing is counted when there was
 * nothing to zap, so calling it before every entry is cheap).  Returns true
 * while obsolete pages remain to be zapped: the host calls it once between
 * guest entries, so a guest runs between batches, and may drain with
 * while (mmu_zap_obsolete_step(mmu)) ;
 * which ends.  An obsolete page still used as a root is zapped but freed
 * only when its vCPU reloads (its last root reference goes): until then it
 * counts in stats.obsolete_pages, not as work left here.
 */
bool mmu_zap_obsolete_step(struct mmu *mmu);

/*
 * Shadow mode: the gpa and host address the current shadow tables give gva
 * for an access (WALK_* flags, WALK_SMAP_AC included), when a present leaf
 * spte allows it; false otherwise (the caller walks the guest's tables).
 * Exact without a guest walk: a present leaf always agrees with the guest's
 * tables, whose A bit (and D bit, if writable) it was built after.
 */
bool mmu_spte_translate(struct mmu_vcpu *v, uint64_t gva, unsigned access, uint64_t *gpa, uint64_t *host_pa);

/*
 * The memslots changed and the generation is now gen (update finished):
 * every MMIO spte is stale at once, and nothing is walked
 * (mmio_invalidations).  When the stored generation bits wrap to 0 an old
 * spte could look current again, so every shadow page is invalidated
 * (mmu_invalidate_all(): obsolete pages are never reached again)
 * (mmio_generation_wraps) and true is returned: the host must then drop
 * the MMIO entries of its own tables (EPT) too.
 */
bool mmu_mmio_generation_changed(struct mmu *mmu, uint64_t gen);

/*
 * A memslot is about to go away or move: every leaf spte mapping it (in
 * current and obsolete pages alike) is cleared, each gfn's rmap in one
 * pass, and its rmap pages freed, so that once this returns no spte points
 * into its memory; then mmu_invalidate_all().
 */
void mmu_memslot_removed(struct mmu *mmu, unsigned slot_id);

/* True when gfn backs a shadowed guest table, so no writable spte maps it. */
bool mmu_gfn_write_protected(struct mmu *mmu, uint64_t gfn);

/*
 * Checks every invariant the MMU relies on (rmaps and sptes agree, shadowed
 * gfns have no writable spte, parent links point back, counts add up).
 * Returns 0, or the number of violations after printing each one through
 * report(); tests call it after every operation.
 */
unsigned mmu_audit(struct mmu *mmu, void (*report)(const char *msg, void *ctx), void *ctx);

#endif
