/* A simulated host for the shadow MMU: its hooks, guest RAM in memslots, and a CPU with a TLB that runs the guest on the shadow tables. */
#ifndef TESTS_UNIT_MMU_SIM_H
#define TESTS_UNIT_MMU_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include "mmu/mmu.h"
#include "mmu/mmu_hooks.h"

#define SIM_MAX_SLOTS		2
#define SIM_MAX_VCPUS		2
/* The simulated CPU's MAXPHYADDR: spte address bits from here up are reserved. */
#define SIM_HOST_MAXPHYADDR	46
/* Host pages the MMU may hold at once, per pool (below and above 4 GiB), unless sim_init_pools() says otherwise. */
#define SIM_POOL_PAGES		8192
/* The most a pool can have: the low pool must end below slot 1's host address (2 GiB). */
#define SIM_MAX_POOL_PAGES	262144u
#define SIM_LOW_POOL_BASE	0x40000000ull
#define SIM_HIGH_POOL_BASE	0x200000000ull
#define SIM_TLB_ENTRIES		4096

struct sim_slot {
	uint64_t base_gfn, npages;
	uint64_t host_pa;
	uint8_t *mem;
	bool removed;		/* not guest RAM now (sim_slot_remove); mem keeps its contents for sim_slot_restore */
};

/* A cached translation: what the CPU keeps of a successful walk (SDM 4.10.2.2), for one 4 KiB linear page. */
struct sim_tlb_entry {
	uint64_t vpn;
	uint64_t frame_pa;
	uint32_t gen;		/* valid while equal to the TLB's generation */
	bool writable, user, nx, dirty;
};

struct sim_vcpu {
	struct mmu_vcpu v;	/* first: the hooks get back to sim_vcpu from it */
	struct sim *sim;
	unsigned requests;	/* MMU_REQ_* not yet served */
	bool root_loaded;
	uint64_t root_pa;
	struct sim_tlb_entry tlb[SIM_TLB_ENTRIES];
	uint32_t tlb_gen;
	bool injected;		/* a #PF is waiting for delivery */
	uint64_t inject_cr2;
	uint32_t inject_error_code;
	uint64_t nr_flush_all, nr_flush_gva, nr_reload;
	uint64_t nr_rsvd_faults;	/* #PF with RSVD the CPU raised (MMIO sptes) */
};

struct sim_pool {
	uint64_t base_pa;
	unsigned size;			/* pages */
	void **pages;			/* [size]: NULL when free */
	/* Free page indices, oldest first, so a freed page is handed out again as late as possible. */
	unsigned *free_ring;
	unsigned free_head, free_count;
	/*
	 * Arena mode (sim_init_pools): page i is arena + i * 4096, one mmap for
	 * the pool, so a page never written costs no memory; freed pages are
	 * poisoned for ASan.  NULL: every page is its own aligned_alloc().
	 */
	uint8_t *arena;
	uint8_t *handed_out;		/* arena mode: [size], the page was handed out before (not zero any more) */
};

struct sim {
	struct mmu mmu;		/* first: the hooks get back to sim from it */
	struct sim_slot slots[SIM_MAX_SLOTS];
	unsigned nr_slots;		/* slots set up, removed ones included */
	/* The memslot generation (mmu/spte.h): starts at MEMSLOT_GEN_INITIAL, advanced by sim_memslot_update_end(). */
	uint64_t memslot_generation;
	struct sim_pool low, high;
	unsigned pages_in_use;
	/* Allocation failure injection: each allocation fails with this chance in 1000. */
	unsigned alloc_fail_permille;
	uint64_t alloc_rng;
	uint64_t alloc_failures;
	/* The first broken rule the hooks or the CPU saw; tests check it after every operation. */
	bool broken;
	char why[256];
};

/* Sets up guest RAM slots (sizes in pages; the second may be 0) and the host page pools. */
void sim_init(struct sim *s, uint64_t slot0_pages, uint64_t slot1_base_gfn, uint64_t slot1_pages, uint64_t seed);
/*
 * The same with pool_pages (<= SIM_MAX_POOL_PAGES) pages per pool, each pool
 * one mmap (arena mode): for tests that hold very many host pages.
 */
void sim_init_pools(struct sim *s, uint64_t slot0_pages, uint64_t slot1_base_gfn, uint64_t slot1_pages,
		    uint64_t seed, unsigned pool_pages);
/*
 * Arena mode: makes every host page the MMU holds (tables, headers, rmaps)
 * inaccessible (false) or accessible again (true), so that a test can show
 * an operation touches none of them: any access faults.
 */
void sim_pools_accessible(struct sim *s, bool accessible);
/* Frees guest RAM; every host page must already be back (the MMU was destroyed). */
void sim_destroy(struct sim *s);
/*
 * Checks the host pages the MMU holds against what its structures account
 * for (tables, gfns and children pages of every shadow page, object-cache
 * pages, gfn-rmap pages, one PAE root per vCPU); false with s->why set.
 */
bool sim_check_page_accounting(struct sim *s);
void sim_vcpu_reset(struct sim_vcpu *sv, struct sim *s);
/* Zeroed guest-RAM-sized buffers. */
void *sim_ram_alloc(uint64_t bytes);
void sim_ram_free(void *p, uint64_t bytes);

void sim_break(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A memslot change as the VMM makes one: update_begin sets the
 * update-in-progress bit; the caller changes the slots (sim_slot_remove after
 * mmu_memslot_removed, sim_slot_restore); update_end clears the bit, advances
 * the generation and calls mmu_mmio_generation_changed(), returning what it
 * returned (true: the stored bits wrapped and everything was zapped).
 */
void sim_memslot_update_begin(struct sim *s);
bool sim_memslot_update_end(struct sim *s);
/* Slot id stops being guest RAM (its contents are kept), or becomes RAM again with them. */
void sim_slot_remove(struct sim *s, unsigned id);
void sim_slot_restore(struct sim *s, unsigned id);

/* Host pointer to guest RAM [gpa, gpa + len) within one slot, or NULL. */
void *sim_guest_ptr(struct sim *s, uint64_t gpa, uint64_t len);
/* Guest-physical address of a host-physical address inside guest RAM; false when it is no guest RAM. */
bool sim_host_pa_to_gpa(const struct sim *s, uint64_t host_pa, uint64_t *gpa);
/* The MMU's host page at pa (page-aligned), or NULL when pa is no page the MMU holds. */
void *sim_host_page(struct sim *s, uint64_t pa);

void sim_tlb_flush_all(struct sim_vcpu *sv);

/* A VM with one vCPU whose paging is off (linear = physical), for the directed tests of the MMU. */
struct sim_host {
	struct sim s;
	struct sim_vcpu sv;
	struct guest_paging g;
};

/*
 * Sets up h (zeroed by the caller) with the RAM slots sim_init() takes, the
 * default host page pools (pool_pages 0) or pools of pool_pages, and an MMU
 * of at most max_shadow_pages (MAXPHYADDR 40).  False when the MMU or the
 * vCPU could not be set up.
 */
bool sim_host_init(struct sim_host *h, uint64_t slot0_pages, uint64_t slot1_base_gfn, uint64_t slot1_pages,
		   uint64_t max_shadow_pages, unsigned pool_pages);

/* What a host does before every guest entry: serves the vCPU's requests.  False when the root could not be loaded. */
bool sim_host_serve_requests(struct sim_host *h);
void sim_tlb_flush_gva(struct sim_vcpu *sv, uint64_t gva);

enum sim_cpu_result {
	SIM_CPU_OK,		/* *host_pa is the access's host-physical address */
	SIM_CPU_FAULT,		/* #PF with *error_code */
	SIM_CPU_BROKEN,		/* the shadow tables break a rule the CPU relies on: s->why says which */
};

/*
 * One guest memory access by the CPU (access = WALK_* flags) in the guest
 * state g (the real CPU runs with CR0.WP = 1, EFER.NXE = 1, PAE on, and
 * the guest's SMEP/SMAP while its paging is on): TLB, else a walk of the
 * shadow tables from the loaded root that sets their A/D bits and fills
 * the TLB.  A fault drops the TLB entry of gva as on Intel CPUs.
 */
enum sim_cpu_result sim_cpu_access(struct sim_vcpu *sv, const struct guest_paging *g, uint64_t gva,
				   unsigned access, uint64_t *host_pa, uint32_t *error_code);

#endif
