/* A small guest linear memory with absent and read-only pages, behind struct emu_ops, for the emulator's tests. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/emulate_mem.h"

/*
 * Checks every page of [linear, linear + len) before any byte moves, like a
 * page walk of each page would: the first absent page (or, for a write, the
 * first read-only page) faults with cr2 at its first byte of the access.
 */
static enum emu_result check(const struct test_mem *m, uint64_t linear, unsigned len,
			     uint32_t access, struct emu_exception *exc)
{
	uint64_t page;

	for (page = linear & ~(uint64_t)(TEST_PAGE - 1); page < linear + len; page += TEST_PAGE) {
		uint32_t error = access;
		uint8_t flags = page < TEST_MEM_SIZE ? m->page_flags[page / TEST_PAGE] : TEST_PAGE_ABSENT;

		if (!(flags & TEST_PAGE_ABSENT)) {
			if (!(access & TEST_PF_WRITE) || !(flags & TEST_PAGE_READ_ONLY))
				continue;
			error |= TEST_PF_PRESENT;
		}
		*exc = (struct emu_exception){
			.vector = EMU_VEC_PF, .has_error = true, .error_code = error,
			.cr2 = page > linear ? page : linear,
		};
		return EMU_EXCEPTION;
	}
	return EMU_OK;
}

static enum emu_result mem_fetch(void *ctx, uint64_t linear, void *buf, unsigned len, bool user,
				 struct emu_exception *exc)
{
	struct test_mem *m = ctx;
	enum emu_result r;

	if (m->decline_fetch)
		return EMU_UNHANDLED;
	r = check(m, linear, len, TEST_PF_FETCH | (user ? TEST_PF_USER : 0), exc);
	if (r != EMU_OK)
		return r;
	m->fetches++;
	if (linear + len > m->fetch_end)
		m->fetch_end = linear + len;
	memcpy(buf, m->bytes + linear, len);
	return EMU_OK;
}

static enum emu_result mem_read(void *ctx, uint64_t linear, void *buf, unsigned len, bool user,
				struct emu_exception *exc)
{
	struct test_mem *m = ctx;
	enum emu_result r;

	if (m->decline_data)
		return EMU_UNHANDLED;
	r = check(m, linear, len, user ? TEST_PF_USER : 0, exc);
	if (r != EMU_OK)
		return r;
	m->reads++;
	m->last_read = (struct test_access){ .linear = linear, .len = len, .user = user };
	memcpy(buf, m->bytes + linear, len);
	return EMU_OK;
}

static enum emu_result mem_write(void *ctx, uint64_t linear, const void *buf, unsigned len,
				 bool user, struct emu_exception *exc)
{
	struct test_mem *m = ctx;
	enum emu_result r;

	if (m->decline_data)
		return EMU_UNHANDLED;
	r = check(m, linear, len, TEST_PF_WRITE | (user ? TEST_PF_USER : 0), exc);
	if (r != EMU_OK)
		return r;
	m->writes++;
	m->last_write = (struct test_access){ .linear = linear, .len = len, .user = user };
	memcpy(m->bytes + linear, buf, len);
	return EMU_OK;
}

static void xmm_read(void *ctx, unsigned n, uint8_t value[16])
{
	struct test_mem *m = ctx;

	memcpy(value, m->xmm[n], 16);
	m->xmm_reads++;
}

static void xmm_write(void *ctx, unsigned n, const uint8_t value[16])
{
	struct test_mem *m = ctx;

	memcpy(m->xmm[n], value, 16);
	m->xmm_writes++;
}

const struct emu_ops test_mem_ops = {
	.fetch = mem_fetch,
	.read = mem_read,
	.write = mem_write,
	.xmm_read = xmm_read,
	.xmm_write = xmm_write,
};

const struct emu_ops test_mem_ops_no_xmm = {
	.fetch = mem_fetch,
	.read = mem_read,
	.write = mem_write,
};

struct test_mem *test_mem_new(void)
{
	return calloc(1, sizeof(struct test_mem));
}
