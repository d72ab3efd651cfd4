/* Unit tests for mmu/obj_cache.c and mmu/rmap.c over a leak-checking fake host page allocator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "tests/unit/test_rng.h"

#include "mmu/mmu_hooks.h"
#include "mmu/obj_cache.h"
#include "mmu/rmap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE_SIZE 4096
/* Objects per page after the 16-byte page header, for 128-byte rmap descriptors. */
#define DESCS_PER_PAGE ((PAGE_SIZE - 16) / sizeof(struct rmap_desc))

/*
 * The fake host: every page it hands out is recorded with a made-up
 * host-physical address, so a free with the wrong address, a double free
 * and a page never freed are all caught.  alloc_budget < 0 means no limit;
 * otherwise it is the number of allocations left before the host runs out.
 */
#define MAX_HOST_PAGES 1024
static struct {
	void *page;
	uint64_t pa;
} host_pages[MAX_HOST_PAGES];
static size_t host_outstanding;
static uint64_t next_fake_pa;
static long alloc_budget;
static char mmu_tag;
#define TEST_MMU ((struct mmu *)&mmu_tag)

void *mmu_host_alloc_page(struct mmu *mmu, bool below_4g, uint64_t *pa)
{
	void *page;

	assert_ptr_equal(mmu, TEST_MMU);
	assert_false(below_4g);
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	assert_true(host_outstanding < MAX_HOST_PAGES);
	page = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	assert_non_null(page);
	memset(page, 0, PAGE_SIZE);
	next_fake_pa += PAGE_SIZE;
	host_pages[host_outstanding].page = page;
	host_pages[host_outstanding].pa = next_fake_pa;
	host_outstanding++;
	*pa = next_fake_pa;
	return page;
}

void mmu_host_free_page(struct mmu *mmu, void *page, uint64_t pa)
{
	assert_ptr_equal(mmu, TEST_MMU);
	for (size_t i = 0; i < host_outstanding; i++) {
		if (host_pages[i].page != page)
			continue;
		assert_int_equal(host_pages[i].pa, pa);
		host_pages[i] = host_pages[--host_outstanding];
		free(page);
		return;
	}
	fail_msg("freeing page %p that the host never gave out", page);
}

/* The host page holding p, or NULL. */
static void *host_page_of(const void *p)
{
	for (size_t i = 0; i < host_outstanding; i++) {
		const char *page = host_pages[i].page;

		if ((const char *)p >= page && (const char *)p < page + PAGE_SIZE)
			return host_pages[i].page;
	}
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	host_outstanding = 0;
	next_fake_pa = 0x100000;
	alloc_budget = -1;
	return 0;
}

/* Every test destroys its caches: any page left is a leak. */
static int teardown(void **state)
{
	(void)state;
	assert_int_equal(host_outstanding, 0);
	return 0;
}

/* ---- obj_cache ---- */

static void test_obj_cache_rounds_size(void **state)
{
	struct obj_cache c;

	(void)state;
	obj_cache_init(&c, TEST_MMU, 100);
	assert_int_equal(c.size, 104);
	obj_cache_init(&c, TEST_MMU, 1);
	assert_int_equal(c.size, 8);
	obj_cache_init(&c, TEST_MMU, 128);
	assert_int_equal(c.size, 128);
	assert_int_equal(c.in_use, 0);
	assert_int_equal(c.pages_allocated, 0);
	assert_null(c.pages);
	assert_null(c.free_list);
}

static void test_obj_cache_zeroes_and_reuses(void **state)
{
	struct obj_cache c;
	unsigned char *a, *b, *again;

	(void)state;
	obj_cache_init(&c, TEST_MMU, 100);
	a = obj_cache_alloc(&c);
	b = obj_cache_alloc(&c);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal((uintptr_t)a % 8, 0);
	assert_int_equal((uintptr_t)b % 8, 0);
	/* Consecutive objects are adjacent and do not overlap. */
	assert_ptr_equal(b, a + 104);
	memset(a, 0xa5, 104);
	memset(b, 0x5a, 104);
	assert_int_equal(c.in_use, 2);

	obj_cache_free(&c, a);
	assert_int_equal(c.in_use, 1);
	again = obj_cache_alloc(&c);
	assert_ptr_equal(again, a);
	for (size_t i = 0; i < 104; i++)
		assert_int_equal(again[i], 0);
	/* Freeing a neighbour left b alone. */
	for (size_t i = 0; i < 104; i++)
		assert_int_equal(b[i], 0x5a);
	assert_int_equal(c.pages_allocated, 1);
	obj_cache_destroy(&c);
}

static void test_obj_cache_page_growth(void **state)
{
	struct obj_cache c;
	void *objs[3 * DESCS_PER_PAGE];

	(void)state;
	obj_cache_init(&c, TEST_MMU, sizeof(struct rmap_desc));
	for (size_t i = 0; i < ARRAY_SIZE(objs); i++) {
		char *page;

		objs[i] = obj_cache_alloc(&c);
		assert_non_null(objs[i]);
		assert_int_equal(c.pages_allocated, i / DESCS_PER_PAGE + 1);
		/* Each object lies wholly inside one host page, past its header. */
		page = host_page_of(objs[i]);
		assert_non_null(page);
		assert_true((char *)objs[i] >= page + 16);
		assert_true((char *)objs[i] + c.size <= page + PAGE_SIZE);
		for (size_t j = 0; j < i; j++)
			assert_ptr_not_equal(objs[j], objs[i]);
	}
	assert_int_equal(c.in_use, ARRAY_SIZE(objs));
	assert_int_equal(host_outstanding, 3);

	for (size_t i = 0; i < ARRAY_SIZE(objs); i++)
		obj_cache_free(&c, objs[i]);
	assert_int_equal(c.in_use, 0);
	assert_int_equal(c.pages_allocated, 3);
	/* Freed objects are reused before the host is asked again. */
	alloc_budget = 0;
	for (size_t i = 0; i < ARRAY_SIZE(objs); i++)
		assert_non_null(obj_cache_alloc(&c));
	assert_null(obj_cache_alloc(&c));
	assert_int_equal(c.pages_allocated, 3);
	assert_int_equal(c.in_use, ARRAY_SIZE(objs));
	alloc_budget = -1;
	assert_non_null(obj_cache_alloc(&c));
	assert_int_equal(c.pages_allocated, 4);
	obj_cache_destroy(&c);
}

static void test_obj_cache_host_out_of_memory(void **state)
{
	struct obj_cache c;

	(void)state;
	obj_cache_init(&c, TEST_MMU, 64);
	alloc_budget = 0;
	assert_null(obj_cache_alloc(&c));
	assert_null(obj_cache_alloc(&c));
	assert_int_equal(c.in_use, 0);
	assert_int_equal(c.pages_allocated, 0);
	alloc_budget = -1;
	assert_non_null(obj_cache_alloc(&c));
	assert_int_equal(c.in_use, 1);
	assert_int_equal(c.pages_allocated, 1);
	obj_cache_destroy(&c);
}

static void test_obj_cache_destroy_frees_every_page(void **state)
{
	struct obj_cache c;

	(void)state;
	/* One 3000-byte object per page. */
	obj_cache_init(&c, TEST_MMU, 3000);
	for (int i = 0; i < 5; i++)
		assert_non_null(obj_cache_alloc(&c));
	assert_int_equal(c.pages_allocated, 5);
	assert_int_equal(host_outstanding, 5);
	obj_cache_destroy(&c);
	assert_int_equal(host_outstanding, 0);
	assert_int_equal(c.pages_allocated, 0);
	assert_int_equal(c.in_use, 0);
	/* A destroyed cache is empty and usable again. */
	assert_non_null(obj_cache_alloc(&c));
	assert_int_equal(c.pages_allocated, 1);
	obj_cache_destroy(&c);
}

/* ---- rmap helpers ---- */

#define POOL 512
static uint64_t pool[POOL];

/* Descriptors a set of n sptes holds: the shape depends on the count alone. */
static size_t descs_for(size_t n)
{
	return n < 2 ? 0 : (n + RMAP_DESC_SPTES - 1) / RMAP_DESC_SPTES;
}

/*
 * Checks through the iterator that head holds exactly the sptes pool[i]
 * with member[i] set (n of them), each once, and has the shape n implies.
 */
static void check_members(const struct rmap_head *head, const bool *member, size_t n)
{
	unsigned seen[POOL] = { 0 };
	struct rmap_iter it;
	size_t visited = 0;

	assert_int_equal(rmap_count(head), n);
	for (uint64_t *s = rmap_first(head, &it); s; s = rmap_next(&it)) {
		assert_true(s >= pool && s < pool + POOL);
		seen[s - pool]++;
		visited++;
		assert_true(visited <= n);
	}
	assert_int_equal(visited, n);
	for (size_t i = 0; i < POOL; i++)
		assert_int_equal(seen[i], member[i] ? 1 : 0);
	if (n == 0)
		assert_int_equal(head->val, 0);
	else if (n == 1)
		assert_int_equal(head->val & 1, 0);
	else
		assert_int_equal(head->val & 1, 1);
}

struct drop_log {
	const struct rmap_head *head;
	unsigned visits[POOL];
	size_t calls;
};

static void drop_spte(uint64_t *spte, void *ctx)
{
	struct drop_log *log = ctx;

	/* The head is already empty while sptes are dropped. */
	assert_int_equal(log->head->val, 0);
	assert_true(spte >= pool && spte < pool + POOL);
	log->visits[spte - pool]++;
	log->calls++;
	*spte = 0;
}

/* rmap_contains() agrees with member[] on pool[lo..hi). */
static void check_contains(const struct rmap_head *head, const bool *member, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++)
		assert_int_equal(rmap_contains(head, &pool[i]), member[i]);
}

/* The iterator's and rmap_contains()'s view of head both match member[]. */
static void check_set(const struct rmap_head *head, const bool *member, size_t n)
{
	check_members(head, member, n);
	check_contains(head, member, 0, POOL);
}

/* Adds pool[from..to) to head in order. */
static void fill(struct obj_cache *c, struct rmap_head *head, bool *member, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		assert_true(rmap_add(c, head, &pool[i]));
		member[i] = true;
	}
}

/* ---- rmap ---- */

static void test_rmap_empty(void **state)
{
	struct obj_cache c;
	struct rmap_head head = { 0 };
	bool member[POOL] = { false };
	struct rmap_iter it;

	(void)state;
	obj_cache_init(&c, TEST_MMU, sizeof(struct rmap_desc));
	check_set(&head, member, 0);
	assert_null(rmap_first(&head, &it));
	assert_false(rmap_remove(&c, &head, &pool[0]));
	assert_int_equal(head.val, 0);
	obj_cache_destroy(&c);
}

static void test_rmap_inline_then_chain(void **state)
{
	struct obj_cache c;
	struct rmap_head head = { 0 };
	bool member[POOL] = { false };
	struct rmap_desc *desc;

	(void)state;
	obj_cache_init(&c, TEST_MMU, sizeof(struct rmap_desc));
	fill(&c, &head, member, 0, 1);
	/* One spte lives in the head itself: no descriptor, no page. */
	assert_int_equal(head.val, (uintptr_t)&pool[0]);
	assert_int_equal(c.in_use, 0);
	assert_int_equal(c.pages_allocated, 0);
	check_set(&head, member, 1);

	assert_true(rmap_add(&c, &head, &pool[1]));
	member[1] = true;
	assert_int_equal(c.in_use, 1);
	desc = (struct rmap_desc *)(head.val & ~(uintptr_t)1);
	assert_int_equal(desc->count, 2);
	assert_null(desc->next);
	check_set(&head, member, 2);

	assert_true(rmap_remove(&c, &head, &pool[0]));
	member[0] = false;
	assert_int_equal(head.val, (uintptr_t)&pool[1]);
	assert_int_equal(c.in_use, 0);
	check_set(&head, member, 1);

	assert_true(rmap_remove(&c, &head, &pool[1]));
	member[1] = false;
	check_set(&head, member, 0);
	obj_cache_destroy(&c);
}

static void test_rmap_chain_growth(void **state)
{
	struct obj_cache c;
	struct rmap_head head = { 0 };
	bool member[POOL] = { false };

	(void)state;
	obj_cache_init(&c, TEST_MMU, sizeof(struct rmap_desc));
	for (size_t n = 1; n <= 5 * RMAP_DESC_SPTES + 1; n++) {
		struct rmap_desc *first;

		assert_true(rmap_add(&c, &head, &pool[n - 1]));
		member[n - 1] = true;
		check_set(&head, member, n);
		assert_int_equal(c.in_use, descs_for(n));
		if (n < 2)
			continue;
		/* Only the first descriptor is partly filled; the rest are full. */
		first = (struct rmap_desc *)(head.val & ~(uintptr_t)1);
		assert_int_equal(first->count, (n - 1) % RMAP_DESC_SPTES + 1);
		for (struct rmap_desc *d = first->next; d; d = d->next)
			assert_int_equal(d->count, RMAP_DESC_SPTES);
	}
	assert_int_equal(rmap_drop_all(&c, &head, drop_spte, &(struct drop_log){ .head = &head }),
			 5 * RMAP_DESC_SPTES + 1);
	obj_cache_destroy(&c);
}

/* Removing any one spte from sets of many sizes, then the rest, leaves the right set and shape each time. */
static void test_rmap_remove_every_position(void **state)
{
	static const size_t sizes[] = { 1, 2, 3, 13, 14, 15, 16, 27, 28, 29, 43 };

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		size_t n = sizes[k];

		for (size_t pos = 0; pos < n; pos++) {
			struct obj_cache c;
			struct rmap_head head = { 0 };
			bool member[POOL] = { false };

			obj_cache_init(&c, TEST_MMU, sizeof(struct rmap_desc));
			fill(&c, &head, member, 0, n);
			assert_true(rmap_remove(&c, &head, &pool[pos]));
			member[pos] = false;
			check_set(&head, member, n - 1);
			assert_int_equal(c.in_use, descs_for(n - 1));
			/* A second removal of the same spte finds nothing and changes nothing. */
			assert_false(rmap_remove(&c, &head, &pool[pos]));
			check_set(&head, member, n - 1);
			/* Then the rest, newest first, down to empty. */
			for (size_t i = n, left = n - 1; i-- > 0;) {
				if (!member[i])
					continue;
				assert_true(rmap_remove(&c, &head, &pool[i]));
				member[i] = false;
				left--;
				check_set(&head, member, left);
				assert_int_equal(c.in_use, descs_for(left));
			}
			assert_int_equal(head.val, 0);
			assert_int_equal(c.in_use, 0);
			obj_cache_destroy(&c);
		}
	}
}

/* A chain shrinking to one spte goes back inline whichever spte is left. */
static void test_rmap_collapse(void **state)
{
	(void)state;
	for (size_t keep = 0; keep < 2 * RMAP_DESC_SPTES + 3; keep++) {
		struct obj_cache c;
		struct rmap_head head = { 0 };
		bool member[POOL] = { false };
		size_t n = 2 * RMAP_DESC_SPTES + 3;

		obj_cache_init(&c, TEST_MMU, sizeof(struct rmap_desc));
		fill(&c, &head, member, 0, n);
		/* Oldest first: the order a naive zap uses. */
		for (size_t i = 0; i < n; i++) {
			if (i == keep)
				continue;
			assert_true(rmap_remove(&c, &head, &pool[i]));
			member[i] = false;
		}
		assert_int_equal(head.val, (uintptr_t)&pool[keep]);
		assert_int_equal(c.in_use, 0);
		check_set(&head, member, 1);
		obj_cache_destroy(&c);
	}
}

static void test_rmap_remove_missing(void **state)
{
	struct obj_cache c;
	struct rmap_head head = { 0 };
	bool member[POOL] = { false };

	(void)state;
	obj_cache_init(&c, TEST_MMU, sizeof(struct rmap_desc));
	fill(&c, &head, member, 0, 1);
	assert_false(rmap_remove(&c, &head, &pool[1]));
	check_set(&head, member, 1);
	fill(&c, &head, member, 1, 20);
	assert_false(rmap_remove(&c, &head, &pool[20]));
	assert_false(rmap_remove(&c, &head, &pool[POOL - 1]));
	check_set(&head, member, 20);
	assert_int_equal(c.in_use, 2);
	while (rmap_count(&head))
		assert_true(rmap_remove(&c, &head, rmap_first(&head, &(struct rmap_iter){ 0 })));
	obj_cache_destroy(&c);
}

static void test_rmap_drop_all(void **state)
{
	static const size_t sizes[] = { 0, 1, 2, 14, 15, 28, 29, 100, POOL };

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		struct obj_cache c;
		struct rmap_head head = { 0 };
		bool member[POOL] = { false };
		struct drop_log log = { .head = &head };
		size_t n = sizes[k];

		obj_cache_init(&c, TEST_MMU, sizeof(struct rmap_desc));
		for (size_t i = 0; i < POOL; i++)
			pool[i] = 0x1000 * i + 1;
		fill(&c, &head, member, 0, n);
		assert_int_equal(c.in_use, descs_for(n));
		assert_int_equal(rmap_drop_all(&c, &head, drop_spte, &log), n);
		assert_int_equal(log.calls, n);
		for (size_t i = 0; i < POOL; i++) {
			assert_int_equal(log.visits[i], i < n ? 1 : 0);
			assert_int_equal(pool[i], i < n ? 0 : 0x1000 * i + 1);
		}
		assert_int_equal(head.val, 0);
		assert_int_equal(c.in_use, 0);
		/* The emptied head is an ordinary empty set again. */
		memset(member, 0, sizeof(member));
		check_set(&head, member, 0);
		fill(&c, &head, member, 0, 3);
		check_set(&head, member, 3);
		assert_int_equal(rmap_drop_all(&c, &head, drop_spte, &log), 3);
		obj_cache_destroy(&c);
	}
}

/*
 * With the cache exhausted and the host out of pages, an add that needs a
 * descriptor (inline to chain, or a full first descriptor) fails and changes
 * nothing; adds that need none, and removals, still work.
 */
static void test_rmap_add_out_of_memory(void **state)
{
	struct obj_cache c;
	struct rmap_head head = { 0 }, other = { 0 };
	bool member[POOL] = { false }, other_member[POOL] = { false };
	void *held[DESCS_PER_PAGE];
	size_t nheld = 0;
	uintptr_t before;

	(void)state;
	obj_cache_init(&c, TEST_MMU, sizeof(struct rmap_desc));
	alloc_budget = 0;
	fill(&c, &head, member, 0, 1);
	assert_false(rmap_add(&c, &head, &pool[1]));
	assert_int_equal(head.val, (uintptr_t)&pool[0]);
	check_set(&head, member, 1);
	assert_int_equal(c.pages_allocated, 0);

	alloc_budget = -1;
	fill(&c, &head, member, 1, RMAP_DESC_SPTES);
	while (c.free_list) {
		held[nheld] = obj_cache_alloc(&c);
		assert_non_null(held[nheld++]);
	}
	assert_int_equal(c.pages_allocated, 1);
	assert_int_equal(nheld, DESCS_PER_PAGE - 1);

	alloc_budget = 0;
	before = head.val;
	assert_false(rmap_add(&c, &head, &pool[RMAP_DESC_SPTES]));
	assert_int_equal(head.val, before);
	check_set(&head, member, RMAP_DESC_SPTES);
	assert_true(rmap_add(&c, &other, &pool[100]));
	other_member[100] = true;
	assert_false(rmap_add(&c, &other, &pool[101]));
	check_set(&other, other_member, 1);
	assert_int_equal(c.in_use, DESCS_PER_PAGE);

	/* Removing leaves room in the first descriptor again. */
	assert_true(rmap_remove(&c, &head, &pool[3]));
	member[3] = false;
	fill(&c, &head, member, RMAP_DESC_SPTES, RMAP_DESC_SPTES + 1);
	check_set(&head, member, RMAP_DESC_SPTES);

	/* A freed object is reused without asking the host. */
	obj_cache_free(&c, held[--nheld]);
	fill(&c, &head, member, RMAP_DESC_SPTES + 1, RMAP_DESC_SPTES + 2);
	check_set(&head, member, RMAP_DESC_SPTES + 1);
	assert_int_equal(c.pages_allocated, 1);

	while (nheld)
		obj_cache_free(&c, held[--nheld]);
	assert_int_equal(rmap_drop_all(&c, &head, drop_spte, &(struct drop_log){ .head = &head }),
			 RMAP_DESC_SPTES + 1);
	assert_true(rmap_remove(&c, &other, &pool[100]));
	assert_int_equal(c.in_use, 0);
	obj_cache_destroy(&c);
}

/*
 * Thousands of random adds, removes (of members and of non-members) and
 * drops on several rmaps sharing one cache, against plain membership
 * arrays; the host now and then has no page.  After every step each set's
 * contents, count, iteration and shape (descriptors in use) must match.
 * Every epoch ends by dropping every set and destroying the cache, so the
 * cache grows from nothing again and host failures keep biting.
 */
#define MODEL_HEADS 4
#define MODEL_POOL 480
#define MODEL_EPOCHS 12
#define MODEL_EPOCH_STEPS 2000

struct model {
	struct obj_cache cache;
	struct rmap_head heads[MODEL_HEADS];
	bool member[MODEL_HEADS][POOL];
	size_t count[MODEL_HEADS];
	int owner[POOL];		/* the head holding pool[i], or -1: an spte maps one gfn */
	size_t failed_adds, max_count;
};

static void model_drop(struct model *m, size_t h)
{
	struct drop_log log = { .head = &m->heads[h] };

	assert_int_equal(rmap_drop_all(&m->cache, &m->heads[h], drop_spte, &log), m->count[h]);
	for (size_t j = 0; j < POOL; j++) {
		assert_int_equal(log.visits[j], m->member[h][j] ? 1 : 0);
		if (m->member[h][j])
			m->owner[j] = -1;
		m->member[h][j] = false;
	}
	m->count[h] = 0;
}

static void model_add(struct model *m, size_t h, size_t i)
{
	size_t n = m->count[h];
	bool needs_desc = n == 1 || (n >= RMAP_DESC_SPTES && n % RMAP_DESC_SPTES == 0);

	if (m->owner[i] >= 0)
		return;
	if (!rmap_add(&m->cache, &m->heads[h], &pool[i])) {
		assert_true(needs_desc && alloc_budget == 0 && m->cache.free_list == NULL);
		m->failed_adds++;
		return;
	}
	m->member[h][i] = true;
	m->owner[i] = (int)h;
	m->count[h]++;
}

/* Removes the k-th member of head h. */
static void model_remove_member(struct model *m, size_t h, size_t k)
{
	size_t j = 0;

	for (;; j++) {
		if (m->member[h][j] && k-- == 0)
			break;
	}
	assert_true(rmap_remove(&m->cache, &m->heads[h], &pool[j]));
	m->member[h][j] = false;
	m->owner[j] = -1;
	m->count[h]--;
}

static void model_check(struct model *m)
{
	size_t descs = 0;

	for (size_t h = 0; h < MODEL_HEADS; h++) {
		size_t probe = rng_below(MODEL_POOL);

		check_members(&m->heads[h], m->member[h], m->count[h]);
		check_contains(&m->heads[h], m->member[h], probe, probe + 1);
		descs += descs_for(m->count[h]);
		if (m->count[h] > m->max_count)
			m->max_count = m->count[h];
	}
	assert_int_equal(m->cache.in_use, descs);
}

static void test_rmap_random_model(void **state)
{
	static struct model m;

	(void)state;
	rng_seed(0x726d6170);
	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < POOL; i++)
		m.owner[i] = -1;

	for (unsigned epoch = 0; epoch < MODEL_EPOCHS; epoch++) {
		obj_cache_init(&m.cache, TEST_MMU, sizeof(struct rmap_desc));
		for (unsigned step = 0; step < MODEL_EPOCH_STEPS; step++) {
			size_t h = rng_below(MODEL_HEADS), i = rng_below(MODEL_POOL);
			unsigned op = rng_below(1000);
			/* Grow in the first half of the epoch, shrink in the second. */
			unsigned add_per_mille = step < MODEL_EPOCH_STEPS / 2 ? 700 : 300;

			alloc_budget = rng_below(2) == 0 ? 0 : -1;
			if (op < 3) {
				model_drop(&m, h);
			} else if (op < 3 + add_per_mille) {
				model_add(&m, h, i);
			} else if (op < 950 && m.count[h] > 0) {
				model_remove_member(&m, h, rng_below(m.count[h]));
			} else {
				/* Any spte, maybe of another set or of none: found only if it is a member. */
				bool was_member = m.member[h][i];

				assert_int_equal(rmap_remove(&m.cache, &m.heads[h], &pool[i]), was_member);
				if (was_member) {
					m.member[h][i] = false;
					m.owner[i] = -1;
					m.count[h]--;
				}
			}
			model_check(&m);
		}
		alloc_budget = -1;
		for (size_t h = 0; h < MODEL_HEADS; h++)
			model_drop(&m, h);
		assert_int_equal(m.cache.in_use, 0);
		obj_cache_destroy(&m.cache);
		assert_int_equal(host_outstanding, 0);
	}
	/* The run reached what it is meant to exercise. */
	assert_true(m.failed_adds > 0);
	assert_true(m.max_count > 5 * RMAP_DESC_SPTES);
	print_message("model: %zu failed adds, longest chain %zu\n", m.failed_adds, m.max_count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_obj_cache_rounds_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_obj_cache_zeroes_and_reuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_obj_cache_page_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_obj_cache_host_out_of_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_obj_cache_destroy_frees_every_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmap_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmap_inline_then_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmap_chain_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmap_remove_every_position, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmap_collapse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmap_remove_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmap_drop_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmap_add_out_of_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmap_random_model, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
