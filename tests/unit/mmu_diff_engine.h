/* The differential operation engine shared by the cmocka test and the fuzzer: random guest tables, operations on them, and the check of the shadow MMU against the reference walker. */
#ifndef TESTS_UNIT_MMU_DIFF_ENGINE_H
#define TESTS_UNIT_MMU_DIFF_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tests/unit/mmu_sim.h"
#include "tests/unit/ref_walk.h"

/* Where choices come from: a splitmix64 stream, or the fuzzer's input bytes (exhausted = no more operations). */
struct diff_src {
	uint64_t rng;
	const uint8_t *data;
	size_t len, pos;
	bool exhausted;
};

void diff_src_seed(struct diff_src *s, uint64_t seed);
void diff_src_bytes(struct diff_src *s, const uint8_t *data, size_t len);
/* A choice in [0, n); n > 0. */
uint64_t diff_src_below(struct diff_src *s, uint64_t n);

enum diff_op_kind {
	DIFF_ACCESS,		/* vcpu accesses gva (read/write/fetch at cpl, EFLAGS.AC) and writes value when writing */
	DIFF_GUEST_WRITE,	/* the guest stores len bytes of value at gpa (a page-table edit) */
	DIFF_INVLPG,
	DIFF_SET_CR3,		/* CR3 := address space addr of the vCPU's mode */
	DIFF_TOGGLE,		/* set paging control bit addr (enum diff_toggle) to value (0 or 1) */
	DIFF_SET_MODE,		/* switch to paging mode addr, address space value */
	DIFF_ZAP_ALL,
	DIFF_UNPROTECT,		/* mmu_unprotect_gfn(addr) */
	DIFF_MEMSLOT_CHANGED,	/* a memslot update: mmu_memslot_removed(addr) for a slot that comes back unchanged */
	DIFF_MEMSLOT_UPDATE,	/* a memslot update doing slot_op, with an access (the DIFF_ACCESS fields) meanwhile if update_access */
	DIFF_INVALIDATE,	/* mmu_invalidate_all() */
	DIFF_ZAP_STEP,		/* mmu_zap_obsolete_step(), value (1..4) times: the host between guest entries */
	DIFF_OP_KINDS,
};

/* What a DIFF_MEMSLOT_UPDATE does to the slots besides advancing the generation (nothing when slot 1 is already so). */
enum diff_slot_op { SLOT_OP_NONE, SLOT_OP_REMOVE, SLOT_OP_RESTORE, SLOT_OPS };

enum diff_toggle { TOGGLE_WP, TOGGLE_NXE, TOGGLE_SMEP, TOGGLE_SMAP, TOGGLE_PSE, TOGGLE_PGE, DIFF_TOGGLES };

/* A concrete operation: it means the same whatever ran before it, so failing sequences can be shrunk. */
struct diff_op {
	uint8_t kind;
	uint8_t vcpu;
	uint8_t access;		/* ACCESS: WALK_WRITE or WALK_FETCH or 0 */
	uint8_t cpl;		/* ACCESS: 0 or 3 */
	uint8_t ac;		/* ACCESS: EFLAGS.AC */
	uint8_t len;		/* ACCESS (write), GUEST_WRITE: bytes stored */
	uint8_t emulate;	/* GUEST_WRITE: through mmu_emulated_write even when not write-protected */
	uint8_t slot_op;	/* MEMSLOT_UPDATE: enum diff_slot_op */
	uint8_t update_access;	/* MEMSLOT_UPDATE: the access is made while the update is in progress */
	uint64_t addr;
	uint64_t value;
};

struct diff_config {
	enum guest_paging_mode mode;	/* every vCPU starts in this mode */
	unsigned nr_vcpus;		/* 1 .. SIM_MAX_VCPUS */
	bool gbpages;
	unsigned maxphyaddr;
	unsigned max_shadow_pages;
	bool mode_switches;		/* generate DIFF_SET_MODE */
	unsigned alloc_fail_permille;	/* host allocations fail at this rate during operations */
	unsigned tables_per_space;	/* table budget of one address space */
	unsigned audit_interval;	/* mmu_audit() after every this many operations (0: every one) */
	bool zap_slow;			/* zap=slow: invalidations zap every page at once */
};

#define DIFF_SPACES		3	/* address spaces per paging mode */
#define DIFF_MAX_TABLES		512
#define DIFF_MAX_GVAS		2048
#define DIFF_DATA_PAGES		48
#define DIFF_LOG		48

struct diff_table {
	uint64_t gpa;			/* the table (PAE PDPT: its 32-byte-aligned base) */
	enum guest_paging_mode mode;
	unsigned level;			/* 3 for a PAE PDPT */
	uint64_t gva_base;		/* linear address its entry 0 covers (first use, when shared) */
	unsigned nr_used;
	uint16_t used[16];		/* indices of entries written when built */
};

struct diff_vcpu {
	struct guest_paging g;		/* the guest's control registers, as the MMU was told */
	unsigned space[4];		/* address space in use per mode */
	uint8_t cpl, ac;
};

/* Counts of what the engine saw, to assert the run exercised what it claims to. */
struct diff_counts {
	uint64_t ops, checks;			/* operations applied, accesses compared */
	uint64_t translated, faulted, mmio;	/* access outcomes */
	uint64_t via_tlb_or_walk, via_emulation;
	uint64_t emulated_writes, plain_writes;	/* guest table edits */
	uint64_t retries, no_memory, pdpte_gp;
	uint64_t mmio_fast;			/* accesses the MMIO fast path served */
	uint64_t mmio_stale_to_ram;		/* accesses that met a stale MMIO spte whose gfn is RAM now */
	uint64_t mmio_created_in_update;	/* accesses that made an MMIO spte while an update was in progress */
	uint64_t generation_bumps, slot_changes, update_accesses;
	/* Obsolete-page zapping. */
	uint64_t invalidate_ops, zap_steps;	/* DIFF_INVALIDATE ops, mmu_zap_obsolete_step() calls */
	uint64_t invalidated_pages;		/* pages that became obsolete (or were zapped, zap=slow) by an invalidation */
	uint64_t step_zapped;			/* obsolete pages the steps zapped */
	uint64_t reclaimed_obsolete;		/* obsolete pages zapped to make room (faults, root loads) */
	uint64_t obsolete_root_reloads;		/* reloads that found an obsolete root */
	uint64_t drained;			/* obsolete pages left for the final drain */
};

struct diff_engine {
	struct diff_config cfg;
	struct sim *sim;
	struct sim_vcpu *vcpus[SIM_MAX_VCPUS];
	struct diff_vcpu vs[SIM_MAX_VCPUS];
	uint8_t *ref_ram[SIM_MAX_SLOTS];	/* the reference's copy of guest RAM */
	struct ref_mem ref;
	uint8_t *page_used;			/* per RAM page index: taken by a table or data page */
	uint64_t ram_pages;

	struct diff_table tables[DIFF_MAX_TABLES];
	unsigned nr_tables;
	uint64_t spaces[4][DIFF_SPACES];	/* CR3 of each address space per mode */
	/* Linear addresses an address space maps (or deliberately does not), per mode and space. */
	uint64_t gvas[4][DIFF_SPACES][DIFF_MAX_GVAS];
	unsigned nr_gvas[4][DIFF_SPACES];
	unsigned gva_space;			/* the space add_gva() files under */
	uint64_t recent[8];			/* linear addresses accessed lately, by any vCPU */
	unsigned recent_next;
	bool recent_reused;			/* the last pick_gva() came from recent */
	uint64_t recent_mmio[8];		/* linear addresses whose access gave MMIO lately: the fast path's cases */
	unsigned recent_mmio_next;
	uint64_t data_pages[DIFF_DATA_PAGES];	/* gpas mapped from many places */

	struct diff_op log[DIFF_LOG];
	uint64_t log_next;
	struct diff_counts n;
	char failure[1024];
	bool failed;
};

/* Builds guest RAM, random tables for every mode, the MMU and its vCPUs; the choices come from src. False with e->failure set. */
bool diff_init(struct diff_engine *e, const struct diff_config *cfg, struct diff_src *src);
/* mmu_destroy and the host-page leak check; false with e->failure set. */
bool diff_destroy(struct diff_engine *e);

/* A random operation biased towards what the tables map. */
void diff_gen_op(struct diff_engine *e, struct diff_src *src, struct diff_op *op);
/* Applies op to both sides and checks them; false with e->failure set (the engine must then only be destroyed). */
bool diff_apply(struct diff_engine *e, const struct diff_op *op);
/*
 * The end of a run: every vCPU reloads (as before its next entry), the
 * zapper runs until it reports nothing left, and then no obsolete page may
 * remain, the audit and the page accounting must agree.  False with
 * e->failure set.
 */
bool diff_drain(struct diff_engine *e);
/* Compares both copies of guest RAM (every page a table or write could have touched). */
bool diff_check_memory(struct diff_engine *e);

/* One random guest_walk() against ref_walk() (random paging state, gva and access), A/D bits included. */
bool diff_check_walk(struct diff_engine *e, struct diff_src *src);

/* A RAM page no table or data page uses, for a test's own tables. */
uint64_t diff_take_page(struct diff_engine *e, struct diff_src *src);
/* Stores into both copies of guest RAM behind the MMU's back: only for pages no shadow page shadows. */
void diff_poke(struct diff_engine *e, uint64_t gpa, unsigned size, uint64_t value);
/* Reads the reference copy of guest RAM. */
uint64_t diff_peek(struct diff_engine *e, uint64_t gpa, unsigned size);

void diff_format_op(const struct diff_op *op, char *buf, size_t size);
/* Prints the failure and the last operations to stdout. */
void diff_print_failure(const struct diff_engine *e);

#endif
