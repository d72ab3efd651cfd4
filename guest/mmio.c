/* mmio: every emulated kind of access to the MMIO test device, checked against a RAM copy, while memslots and the device move around it (docs/guests.md). */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/hypercall.h"
#include "guest/lib/mmio_testdev.h"
#include "guest/lib/paging.h"
#include "guest/lib/ring3.h"
#include "guest/lib/string.h"
#include "guest/lib/x86.h"

/*
 * The whole sequence runs twice: with paging off, then with 32-bit paging
 * that maps every test address 1:1 with 4 KiB pages, so a linear address is
 * the guest-physical one in both passes and the same code serves both.
 *
 * The device's RAM-like bytes (SCRATCH and WINDOW) have a copy in RAM,
 * `mirror`: every instruction runs once on the device and once on the copy,
 * and the two must give the same registers, flags and memory.  COUNT is
 * modelled too: the guest counts the device accesses it makes and compares.
 *
 * The guest never touches a guest-physical address where neither RAM nor
 * the device is: the VMM would end it there.
 */

#define ENTRIES		1024
#define IDENTITY_END	0x400000u	/* 1:1, user-accessible: the image, its stacks and buffers */
#define ALIAS_VA	0x80000000u	/* PDE 512: the device mapped again with other permissions */
#define ALT_BASE	0xC0000000u	/* PDE 768, 1:1: where the device moves to */
#define ALT_STRIDE	0x4000u
#define ALT_PLACES	32
#define SLOT_BASE	0xC0200000u	/* the upper half of PDE 768, 1:1: where test memslots go */
#define SLOT_FAR	(SLOT_BASE + 0x80000u)
#define SLOT_SPARE	(SLOT_BASE + 0x100000u)	/* the slots that fill the memslot table */
#define DEV_REGION	0xFE800000u	/* PDE 1018, 1:1: the device's default base and its neighbours */
#define GEN_MASK	0x7FFFFu	/* the 19 generation bits an MMIO spte stores */
#define GEN_WRAP_MAX	150u		/* the VMM starts this many changes before those bits wrap */
#define PASS_CHANGES	110u		/* memslot changes of the rounds per pass: two passes go past the wrap */
#define DEFAULT_OPS	10000u
#define MAX_OPS		1000000u
#define STRING_CASES	200
#define MAX_SLOTS_TRIED	16
#define USER_WRITE_VALUE 0x05e7da7au
#define SIB_INDEX	3u		/* the index register of the SIB forms below */

#define FL_CF		0x001u
#define FL_FIXED	0x002u		/* EFLAGS bit 1 reads as 1 */
#define FL_PF		0x004u
#define FL_AF		0x010u
#define FL_ZF		0x040u
#define FL_SF		0x080u
#define FL_DF		0x400u
#define FL_OF		0x800u
#define FL_ARITH	(FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
#define FL_LOGIC	(FL_ARITH & ~FL_AF)	/* AF is undefined after AND, OR, XOR, TEST */
#define FL_ALL		(FL_ARITH | FL_DF)	/* an instruction that must leave the flags alone */
#define FL_BT		FL_CF			/* BT*: only CF is defined */

#define CPUID_7_EBX_SMAP	(1u << 20)
#define CR4_SMAP		(1u << 21)

_Static_assert(TESTDEV_BASE_DEFAULT >> 22 == DEV_REGION >> 22, "the default base lies in DEV_REGION's PDE");
_Static_assert(TESTDEV_BASE_DEFAULT == 0xFEB00000u, "the moffs forms below encode this base");

static volatile uint32_t pd[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t identity_pt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t alias_pt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t alt_pt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t dev_pt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
/* For the SMAP checks: the same mappings, except that the image is supervisor-only (its stacks and data stay usable with SMAP on). */
static volatile uint32_t pd_smap[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t identity_pt_smap[ENTRIES] __attribute__((aligned(PAGE_SIZE)));

/* What SCRATCH and WINDOW hold, at their device offsets; other offsets unused. */
static uint8_t mirror[TESTDEV_SIZE] __attribute__((aligned(16)));
/* RAM ends of string instructions: ram_dev's with the device, ram_mirror's with the mirror. */
static uint8_t ram_dev[PAGE_SIZE] __attribute__((aligned(16)));
static uint8_t ram_mirror[PAGE_SIZE] __attribute__((aligned(16)));
/* A RAM frame the alias is pointed at instead of the device. */
static uint8_t ram_frame[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static uintptr_t dev = TESTDEV_BASE_DEFAULT;	/* where the device is now (linear = guest-physical) */
static const char *pass_name;

static uint32_t count_model;	/* the COUNT the next access should see, while count_known */
static bool count_known;
static uint32_t count_checks;

static uint32_t gen_now;	/* the last generation HC_MEMSLOT_GENERATION gave (low 32 bits) */
static uint32_t changes;	/* memslot changes made */
static uint32_t wrap_after;	/* changes made when the low 19 bits went through 0; 0: not yet */

static uint32_t user_value;	/* what ring-3 code read; in the image, which is user-accessible */

/* ---- random numbers --------------------------------------------------------------- */

static uint32_t rng_state = 0x2545f491u;

static uint32_t rnd(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static uint32_t rnd_below(uint32_t n)
{
	return rnd() % n;
}

/* A quarter of the values are the edges where carries, overflows and sign changes happen. */
static uint32_t rnd_value(void)
{
	static const uint32_t edges[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
		0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x80008080,
	};
	uint32_t r = rnd();

	if ((r & 3) == 0)
		return edges[(r >> 2) % (sizeof(edges) / sizeof(edges[0]))];
	return rnd();
}

/* ---- raw accesses: one MOV each ------------------------------------------------------ */

static inline uint32_t rd32(uintptr_t a)
{
	uint32_t v;

	asm volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline uint16_t rd16(uintptr_t a)
{
	uint16_t v;

	asm volatile("movw (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline uint8_t rd8(uintptr_t a)
{
	uint8_t v;

	asm volatile("movb (%1), %0" : "=q"(v) : "r"(a) : "memory");
	return v;
}

static inline void wr32(uintptr_t a, uint32_t v)
{
	asm volatile("movl %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

static inline void wr16(uintptr_t a, uint16_t v)
{
	asm volatile("movw %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

static inline void wr8(uintptr_t a, uint8_t v)
{
	asm volatile("movb %0, (%1)" : : "q"(v), "r"(a) : "memory");
}

static uint32_t mirror32(uint32_t off)
{
	uint32_t v;

	memcpy(&v, mirror + off, 4);
	return v;
}

/* ---- the COUNT model ------------------------------------------------------------------ */

/* The device saw `calls` more accesses; unknown (an access split in two, perhaps) makes the next check resynchronize. */
static void device_accessed(uint32_t calls, bool unknown)
{
	if (unknown)
		count_known = false;
	count_model += calls;
}

static uint32_t dev_rd32(uint32_t off)
{
	device_accessed(1, false);
	return rd32(dev + off);
}

static uint16_t dev_rd16(uint32_t off)
{
	device_accessed(1, false);
	return rd16(dev + off);
}

static uint8_t dev_rd8(uint32_t off)
{
	device_accessed(1, false);
	return rd8(dev + off);
}

static void dev_wr32(uint32_t off, uint32_t v)
{
	device_accessed(1, false);
	wr32(dev + off, v);
}

static void dev_wr8(uint32_t off, uint8_t v)
{
	device_accessed(1, false);
	wr8(dev + off, v);
}

/* COUNT is the number of accesses before this one: exactly what the guest counted since the last check. */
static void count_check(void)
{
	uint32_t got = rd32(dev + TESTDEV_COUNT);

	if (count_known && got != count_model) {
		printf("guest: mmio: %s: COUNT reads %u, the guest made %u accesses\n", pass_name, got,
		       count_model);
		CHECK_EQ(got, count_model);
	}
	count_model = got + 1;
	count_known = true;
	count_checks++;
}

/* The aligned dwords covering [off, off + size) read the same on the device as in the mirror. */
static void check_range(uint32_t off, uint32_t size, const char *after)
{
	for (uint32_t a = off & ~3u; a < off + size; a += 4) {
		uint32_t got = dev_rd32(a), want = mirror32(a);

		if (got != want) {
			printf("guest: mmio: %s: offset 0x%x reads 0x%x, RAM copy 0x%x (after %s)\n",
			       pass_name, a, got, want, after);
			CHECK_EQ(got, want);
		}
	}
}

static void check_all(const char *after)
{
	check_range(TESTDEV_SCRATCH, 8, after);
	check_range(TESTDEV_WINDOW, TESTDEV_WINDOW_END - TESTDEV_WINDOW, after);
	count_check();
}

/* ---- one instruction with a memory operand, on the device and on the mirror ------------ */

struct opregs {
	uint32_t a, d, fl;
};

/*
 * Runs insn with EAX, EDX and EFLAGS from r and puts them back. %[p] is
 * the target address minus bias (so disp8, disp32 and SIB forms reach it);
 * %[i] holds SIB_INDEX.
 */
#define OPFN(fn, insn, bias)								\
	static void fn(uintptr_t addr, struct opregs *r)				\
	{										\
		uint32_t a = r->a, d = r->d, fl = r->fl;				\
											\
		asm volatile("push %[fl]\n\tpopf\n\t" insn "\n\tpushf\n\tpop %[fl]"	\
			     : "+a"(a), "+d"(d), [fl] "+r"(fl)				\
			     : [p] "r"(addr - (uint32_t)(bias)), [i] "r"(SIB_INDEX)	\
			     : "memory", "cc");						\
		r->a = a;								\
		r->d = d;								\
		r->fl = fl;								\
	}

#define SIB4(disp)	#disp "(%[p],%[i],4)"

OPFN(ld32, "movl (%[p]), %%eax", 0)
OPFN(ld16, "movw (%[p]), %%dx", 0)
OPFN(ld8, "movb (%[p]), %%al", 0)
OPFN(ld8h, "movb (%[p]), %%dh", 0)
OPFN(ld32_d8, "movl 0x7f(%[p]), %%edx", 0x7f)
OPFN(ld32_d8n, "movl -0x80(%[p]), %%eax", -0x80)
OPFN(ld32_d32, "movl 0x12345(%[p]), %%eax", 0x12345)
OPFN(ld32_sib, "movl " SIB4(0x20) ", %%edx", 0x20 + 4 * SIB_INDEX)
OPFN(ld16_sib8, "movw (%[p],%[i],8), %%ax", 8 * SIB_INDEX)
OPFN(ld32_fs, "movl %%fs:(%[p]), %%eax", 0)
OPFN(ld32_es, "movl %%es:0x40(%[p],%[i],2), %%eax", 0x40 + 2 * SIB_INDEX)
OPFN(st32, "movl %%eax, (%[p])", 0)
OPFN(st16, "movw %%dx, (%[p])", 0)
OPFN(st8, "movb %%al, (%[p])", 0)
OPFN(st8h, "movb %%dh, (%[p])", 0)
OPFN(st32_d8n, "movl %%edx, -0x44(%[p])", -0x44)
OPFN(st32_gs, "movl %%eax, %%gs:(%[p])", 0)
OPFN(sti32, "movl $0x89abcdef, (%[p])", 0)
OPFN(sti16, "movw $0xbeef, 0x8(%[p],%[i],1)", 8 + SIB_INDEX)
OPFN(sti8, "movb $0xa5, (%[p])", 0)
OPFN(movzbl, "movzbl (%[p]), %%eax", 0)
OPFN(movzwl, "movzwl (%[p]), %%edx", 0)
OPFN(movsbl, "movsbl (%[p]), %%eax", 0)
OPFN(movswl, "movswl (%[p]), %%edx", 0)
OPFN(movzbw, "movzbw (%[p]), %%dx", 0)
OPFN(movsbw, "movsbw (%[p]), %%ax", 0)
OPFN(test32, "testl %%eax, (%[p])", 0)
OPFN(test16, "testw %%dx, (%[p])", 0)
OPFN(test8, "testb %%al, (%[p])", 0)
OPFN(testi32, "testl $0x80000101, (%[p])", 0)
OPFN(testi16, "testw $0x8001, (%[p])", 0)
OPFN(testi8, "testb $0x81, (%[p])", 0)
OPFN(xchg32, "xchgl %%eax, (%[p])", 0)
OPFN(xchg16, "xchgw %%dx, (%[p])", 0)
OPFN(xchg8, "xchgb %%al, (%[p])", 0)
OPFN(xchg8h, "xchgb %%dh, (%[p])", 0)
OPFN(xadd32, "xaddl %%edx, (%[p])", 0)
OPFN(xadd16, "lock xaddw %%dx, (%[p])", 0)
OPFN(xadd8, "xaddb %%al, (%[p])", 0)
OPFN(cmpxchg32, "cmpxchgl %%edx, (%[p])", 0)
OPFN(cmpxchg16, "lock cmpxchgw %%dx, (%[p])", 0)
OPFN(cmpxchg8, "cmpxchgb %%dh, (%[p])", 0)
OPFN(not32, "notl (%[p])", 0)
OPFN(not8, "notb (%[p])", 0)
OPFN(neg32, "negl (%[p])", 0)
OPFN(neg16, "negw (%[p])", 0)
OPFN(neg8, "negb (%[p])", 0)
OPFN(inc32, "incl (%[p])", 0)
OPFN(inc16, "incw (%[p])", 0)
OPFN(inc8, "incb (%[p])", 0)
OPFN(dec32, "lock decl (%[p])", 0)
OPFN(dec8, "decb (%[p])", 0)
OPFN(bt32, "btl $5, (%[p])", 0)
OPFN(bts32, "btsl $31, (%[p])", 0)
OPFN(btr16, "btrw $3, (%[p])", 0)
OPFN(btc32, "btcl $17, (%[p])", 0)
OPFN(bts16_lock, "lock btsw $9, (%[p])", 0)
OPFN(lock_add32, "lock addl %%eax, (%[p])", 0)
OPFN(lock_or8, "lock orb $0x11, (%[p])", 0)
OPFN(lock_and16, "lock andw %%dx, (%[p])", 0)
OPFN(lock_sub32, "lock subl $0x1000, (%[p])", 0)
OPFN(lock_xor32, "lock xorl %%edx, (%[p])", 0)
OPFN(lock_adc8, "lock adcb %%al, (%[p])", 0)
OPFN(lock_sbb16, "lock sbbw $-2, (%[p])", 0)

/* The eight ALU operations in every form with a memory operand: r <- m, m <- r, m <- imm32, imm8, imm16, imm8. */
#define ALU_FAMILY(op)									\
	OPFN(op##_rm32, #op "l (%[p]), %%eax", 0)					\
	OPFN(op##_rm16, #op "w (%[p]), %%dx", 0)					\
	OPFN(op##_rm8, #op "b (%[p]), %%al", 0)						\
	OPFN(op##_mr32, #op "l %%eax, (%[p])", 0)					\
	OPFN(op##_mr16, #op "w %%dx, (%[p])", 0)					\
	OPFN(op##_mr8, #op "b %%dh, (%[p])", 0)						\
	OPFN(op##_mi32, #op "l $0x9abcdef1, 0x10(%[p])", 0x10)				\
	OPFN(op##_mi8s, #op "l $-7, " SIB4(0x20), 0x20 + 4 * SIB_INDEX)			\
	OPFN(op##_mi16, #op "w $0x8421, (%[p])", 0)					\
	OPFN(op##_mi16s, #op "w $0x55, (%[p])", 0)					\
	OPFN(op##_mi8, #op "b $0xc3, (%[p])", 0)

ALU_FAMILY(add)
ALU_FAMILY(or)
ALU_FAMILY(adc)
ALU_FAMILY(sbb)
ALU_FAMILY(and)
ALU_FAMILY(sub)
ALU_FAMILY(xor)
ALU_FAMILY(cmp)

/* CMPXCHG8B: EDX:EAX against m64; on a match m64 = ECX:EBX, which derive from EAX and EDX. */
#define CMPXCHG8B_FN(fn, insn)								\
	static void fn(uintptr_t addr, struct opregs *r)				\
	{										\
		uint32_t a = r->a, d = r->d, fl = r->fl;				\
											\
		asm volatile("push %[fl]\n\tpopf\n\t" insn " (%[p])\n\tpushf\n\tpop %[fl]" \
			     : "+a"(a), "+d"(d), [fl] "+r"(fl)				\
			     : [p] "S"(addr), "b"(~r->a), "c"(r->d ^ 0xa5a5a5a5u)	\
			     : "memory", "cc");						\
		r->a = a;								\
		r->d = d;								\
		r->fl = fl;								\
	}

CMPXCHG8B_FN(cmpxchg8b, "cmpxchg8b")
CMPXCHG8B_FN(cmpxchg8b_lock, "lock cmpxchg8b")

#define OP_ACC_MATCH	1	/* half the time, EAX (EDX:EAX) starts equal to the memory operand */

struct op {
	const char *name;
	void (*fn)(uintptr_t addr, struct opregs *r);
	uint8_t size;		/* bytes of the memory operand */
	uint8_t calls;		/* device accesses: 1 read or write, 2 for read-modify-write */
	uint16_t fmask;		/* flags that must come out the same */
	uint8_t flags;
};

#define ALU_ENTRIES(op, rmw, fm)							\
	{ #op " r32, m32", op##_rm32, 4, 1, fm, 0 },					\
	{ #op " r16, m16", op##_rm16, 2, 1, fm, 0 },					\
	{ #op " r8, m8", op##_rm8, 1, 1, fm, 0 },					\
	{ #op " m32, r32", op##_mr32, 4, rmw, fm, 0 },					\
	{ #op " m16, r16", op##_mr16, 2, rmw, fm, 0 },					\
	{ #op " m8, r8 (dh)", op##_mr8, 1, rmw, fm, 0 },				\
	{ #op " m32, imm32 (disp8)", op##_mi32, 4, rmw, fm, 0 },			\
	{ #op " m32, imm8 (SIB)", op##_mi8s, 4, rmw, fm, 0 },				\
	{ #op " m16, imm16", op##_mi16, 2, rmw, fm, 0 },				\
	{ #op " m16, imm8", op##_mi16s, 2, rmw, fm, 0 },				\
	{ #op " m8, imm8", op##_mi8, 1, rmw, fm, 0 }

static const struct op ops[] = {
	{ "mov eax, m32", ld32, 4, 1, FL_ALL, 0 },
	{ "mov dx, m16", ld16, 2, 1, FL_ALL, 0 },
	{ "mov al, m8", ld8, 1, 1, FL_ALL, 0 },
	{ "mov dh, m8", ld8h, 1, 1, FL_ALL, 0 },
	{ "mov edx, m32 (disp8)", ld32_d8, 4, 1, FL_ALL, 0 },
	{ "mov eax, m32 (negative disp8)", ld32_d8n, 4, 1, FL_ALL, 0 },
	{ "mov eax, m32 (disp32)", ld32_d32, 4, 1, FL_ALL, 0 },
	{ "mov edx, m32 (SIB)", ld32_sib, 4, 1, FL_ALL, 0 },
	{ "mov ax, m16 (SIB, scale 8)", ld16_sib8, 2, 1, FL_ALL, 0 },
	{ "mov eax, fs:m32", ld32_fs, 4, 1, FL_ALL, 0 },
	{ "mov eax, es:m32 (SIB)", ld32_es, 4, 1, FL_ALL, 0 },
	{ "mov m32, eax", st32, 4, 1, FL_ALL, 0 },
	{ "mov m16, dx", st16, 2, 1, FL_ALL, 0 },
	{ "mov m8, al", st8, 1, 1, FL_ALL, 0 },
	{ "mov m8, dh", st8h, 1, 1, FL_ALL, 0 },
	{ "mov m32 (negative disp8), edx", st32_d8n, 4, 1, FL_ALL, 0 },
	{ "mov gs:m32, eax", st32_gs, 4, 1, FL_ALL, 0 },
	{ "mov m32, imm32", sti32, 4, 1, FL_ALL, 0 },
	{ "mov m16 (SIB), imm16", sti16, 2, 1, FL_ALL, 0 },
	{ "mov m8, imm8", sti8, 1, 1, FL_ALL, 0 },
	{ "movzx eax, m8", movzbl, 1, 1, FL_ALL, 0 },
	{ "movzx edx, m16", movzwl, 2, 1, FL_ALL, 0 },
	{ "movsx eax, m8", movsbl, 1, 1, FL_ALL, 0 },
	{ "movsx edx, m16", movswl, 2, 1, FL_ALL, 0 },
	{ "movzx dx, m8", movzbw, 1, 1, FL_ALL, 0 },
	{ "movsx ax, m8", movsbw, 1, 1, FL_ALL, 0 },
	ALU_ENTRIES(add, 2, FL_ARITH),
	ALU_ENTRIES(or, 2, FL_LOGIC),
	ALU_ENTRIES(adc, 2, FL_ARITH),
	ALU_ENTRIES(sbb, 2, FL_ARITH),
	ALU_ENTRIES(and, 2, FL_LOGIC),
	ALU_ENTRIES(sub, 2, FL_ARITH),
	ALU_ENTRIES(xor, 2, FL_LOGIC),
	ALU_ENTRIES(cmp, 1, FL_ARITH),
	{ "test m32, eax", test32, 4, 1, FL_LOGIC, 0 },
	{ "test m16, dx", test16, 2, 1, FL_LOGIC, 0 },
	{ "test m8, al", test8, 1, 1, FL_LOGIC, 0 },
	{ "test m32, imm32", testi32, 4, 1, FL_LOGIC, 0 },
	{ "test m16, imm16", testi16, 2, 1, FL_LOGIC, 0 },
	{ "test m8, imm8", testi8, 1, 1, FL_LOGIC, 0 },
	{ "xchg m32, eax", xchg32, 4, 2, FL_ALL, 0 },
	{ "xchg m16, dx", xchg16, 2, 2, FL_ALL, 0 },
	{ "xchg m8, al", xchg8, 1, 2, FL_ALL, 0 },
	{ "xchg m8, dh", xchg8h, 1, 2, FL_ALL, 0 },
	{ "xadd m32, edx", xadd32, 4, 2, FL_ARITH, 0 },
	{ "lock xadd m16, dx", xadd16, 2, 2, FL_ARITH, 0 },
	{ "xadd m8, al", xadd8, 1, 2, FL_ARITH, 0 },
	{ "cmpxchg m32, edx", cmpxchg32, 4, 2, FL_ARITH, OP_ACC_MATCH },
	{ "lock cmpxchg m16, dx", cmpxchg16, 2, 2, FL_ARITH, OP_ACC_MATCH },
	{ "cmpxchg m8, dh", cmpxchg8, 1, 2, FL_ARITH, OP_ACC_MATCH },
	{ "cmpxchg8b m64", cmpxchg8b, 8, 2, FL_ALL, OP_ACC_MATCH },		/* ZF only, the others kept */
	{ "lock cmpxchg8b m64", cmpxchg8b_lock, 8, 2, FL_ALL, OP_ACC_MATCH },
	{ "not m32", not32, 4, 2, FL_ALL, 0 },
	{ "not m8", not8, 1, 2, FL_ALL, 0 },
	{ "neg m32", neg32, 4, 2, FL_ARITH, 0 },
	{ "neg m16", neg16, 2, 2, FL_ARITH, 0 },
	{ "neg m8", neg8, 1, 2, FL_ARITH, 0 },
	{ "inc m32", inc32, 4, 2, FL_ARITH, 0 },
	{ "inc m16", inc16, 2, 2, FL_ARITH, 0 },
	{ "inc m8", inc8, 1, 2, FL_ARITH, 0 },
	{ "lock dec m32", dec32, 4, 2, FL_ARITH, 0 },
	{ "dec m8", dec8, 1, 2, FL_ARITH, 0 },
	{ "bt m32, 5", bt32, 4, 1, FL_BT, 0 },
	{ "bts m32, 31", bts32, 4, 2, FL_BT, 0 },
	{ "btr m16, 3", btr16, 2, 2, FL_BT, 0 },
	{ "btc m32, 17", btc32, 4, 2, FL_BT, 0 },
	{ "lock bts m16, 9", bts16_lock, 2, 2, FL_BT, 0 },
	{ "lock add m32, eax", lock_add32, 4, 2, FL_ARITH, 0 },
	{ "lock or m8, imm8", lock_or8, 1, 2, FL_LOGIC, 0 },
	{ "lock and m16, dx", lock_and16, 2, 2, FL_LOGIC, 0 },
	{ "lock sub m32, imm32", lock_sub32, 4, 2, FL_ARITH, 0 },
	{ "lock xor m32, edx", lock_xor32, 4, 2, FL_LOGIC, 0 },
	{ "lock adc m8, al", lock_adc8, 1, 2, FL_ARITH, 0 },
	{ "lock sbb m16, imm8", lock_sbb16, 2, 2, FL_ARITH, 0 },
};

#define NOPS	(sizeof(ops) / sizeof(ops[0]))

static bool crosses_page(uint32_t off, uint32_t size)
{
	return size && off >> 12 != (off + size - 1) >> 12;
}

/* A quarter inside SCRATCH (any offset that keeps the access inside it), some across WINDOW's page boundary, the rest anywhere in WINDOW. */
static uint32_t pick_offset(uint32_t size)
{
	uint32_t r = rnd();

	if ((r & 3) == 0)
		return TESTDEV_SCRATCH + rnd_below(9 - size);
	if ((r & 0x1c) == 0 && size > 1)
		return 0x1000 - size + 1 + rnd_below(size - 1);
	return TESTDEV_WINDOW + rnd_below(TESTDEV_WINDOW_END - TESTDEV_WINDOW - size + 1);
}

static void run_op(const struct op *o, uint32_t off)
{
	struct opregs in = { rnd_value(), rnd_value(), (rnd() & FL_ARITH) | FL_FIXED };
	struct opregs got, want;

	if ((o->flags & OP_ACC_MATCH) && (rnd() & 1)) {
		memcpy(&in.a, mirror + off, o->size < 4 ? o->size : 4);
		if (o->size == 8)
			memcpy(&in.d, mirror + off + 4, 4);
	}
	got = in;
	want = in;
	o->fn(dev + off, &got);
	o->fn((uintptr_t)mirror + off, &want);
	device_accessed(o->calls, crosses_page(off, o->size));
	if (got.a != want.a || got.d != want.d || ((got.fl ^ want.fl) & o->fmask)) {
		printf("guest: mmio: %s: %s at offset 0x%x (eax 0x%x edx 0x%x flags 0x%x): device gives eax 0x%x edx 0x%x flags 0x%x, RAM eax 0x%x edx 0x%x flags 0x%x\n",
		       pass_name, o->name, off, in.a, in.d, in.fl, got.a, got.d, got.fl, want.a,
		       want.d, want.fl);
		check_failed(__FILE__, __LINE__, "the device and its RAM copy give the same result");
	}
	check_range(off, o->size, o->name);
}

/* n random instructions at random offsets, each compared with the mirror; COUNT every 16. */
static void hammer(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct op *o = &ops[rnd_below(NOPS)];

		run_op(o, pick_offset(o->size));
		if (i % 16 == 15)
			count_check();
	}
	count_check();
}

/* ---- string instructions ------------------------------------------------------------- */

struct strregs {
	uint32_t di, si, cx, a;
};

#define STRFN(fn, insn)									\
	static void fn(struct strregs *r, bool down)					\
	{										\
		uint32_t di = r->di, si = r->si, cx = r->cx, a = r->a;			\
											\
		if (down)								\
			asm volatile("std\n\t" insn "\n\tcld"				\
				     : "+D"(di), "+S"(si), "+c"(cx), "+a"(a) : : "memory", "cc"); \
		else									\
			asm volatile(insn						\
				     : "+D"(di), "+S"(si), "+c"(cx), "+a"(a) : : "memory", "cc"); \
		r->di = di;								\
		r->si = si;								\
		r->cx = cx;								\
		r->a = a;								\
	}

STRFN(rep_stosb, "rep stosb")
STRFN(rep_stosw, "rep stosw")
STRFN(rep_stosl, "rep stosl")
STRFN(rep_movsb, "rep movsb")
STRFN(rep_movsw, "rep movsw")
STRFN(rep_movsl, "rep movsl")
STRFN(rep_lodsb, "rep lodsb")
STRFN(rep_lodsw, "rep lodsw")
STRFN(rep_lodsl, "rep lodsl")
STRFN(one_stosb, "stosb")
STRFN(one_stosw, "stosw")
STRFN(one_stosl, "stosl")
STRFN(one_movsb, "movsb")
STRFN(one_movsw, "movsw")
STRFN(one_movsl, "movsl")
STRFN(one_lodsb, "lodsb")
STRFN(one_lodsw, "lodsw")
STRFN(one_lodsl, "lodsl")

enum str_kind { STR_STOS, STR_MOVS, STR_LODS };

struct strop {
	const char *name;
	void (*fn)(struct strregs *r, bool down);
	uint8_t size;
	uint8_t kind;
	bool rep;
};

static const struct strop strops[] = {
	{ "rep stosb", rep_stosb, 1, STR_STOS, true }, { "rep stosw", rep_stosw, 2, STR_STOS, true },
	{ "rep stosd", rep_stosl, 4, STR_STOS, true }, { "rep movsb", rep_movsb, 1, STR_MOVS, true },
	{ "rep movsw", rep_movsw, 2, STR_MOVS, true }, { "rep movsd", rep_movsl, 4, STR_MOVS, true },
	{ "rep lodsb", rep_lodsb, 1, STR_LODS, true }, { "rep lodsw", rep_lodsw, 2, STR_LODS, true },
	{ "rep lodsd", rep_lodsl, 4, STR_LODS, true }, { "stosb", one_stosb, 1, STR_STOS, false },
	{ "stosw", one_stosw, 2, STR_STOS, false }, { "stosd", one_stosl, 4, STR_STOS, false },
	{ "movsb", one_movsb, 1, STR_MOVS, false }, { "movsw", one_movsw, 2, STR_MOVS, false },
	{ "movsd", one_movsl, 4, STR_MOVS, false }, { "lodsb", one_lodsb, 1, STR_LODS, false },
	{ "lodsw", one_lodsw, 2, STR_LODS, false }, { "lodsd", one_lodsl, 4, STR_LODS, false },
};

#define NSTROPS	(sizeof(strops) / sizeof(strops[0]))

/* [lo, lo + bytes) inside WINDOW; a third of them straddle the page boundary. */
static uint32_t pick_window_range(uint32_t bytes)
{
	if (bytes && rnd_below(3) == 0)
		return 0x1000 - 1 - rnd_below(bytes);
	return TESTDEV_WINDOW + rnd_below(TESTDEV_WINDOW_END - TESTDEV_WINDOW - bytes + 1);
}

/* Some element of size `size` in [lo, lo + bytes) straddles the page boundary. */
static bool elements_cross(uint32_t lo, uint32_t bytes, uint32_t size)
{
	return lo < 0x1000 && lo + bytes > 0x1000 && (0x1000 - lo) % size != 0;
}

/*
 * One string instruction between RAM and WINDOW (or WINDOW and WINDOW),
 * forwards or backwards, run on the device with ram_dev and on the mirror
 * with ram_mirror: registers, the RAM buffers and the bytes around the
 * WINDOW range must agree.
 */
static void string_case(const struct strop *s)
{
	uint32_t size = s->size;
	uint32_t n = s->rep ? rnd_below(25) : 1;
	uint32_t bytes = n * size;
	bool down = rnd() & 1;
	bool src_dev = false, dst_dev = false, unknown;
	uint32_t variant = rnd_below(3);
	uint32_t dst_off = pick_window_range(bytes), src_off = pick_window_range(bytes);
	uint32_t roff = rnd_below(PAGE_SIZE - bytes + 1);
	uint32_t last = bytes ? bytes - size : 0;	/* where DF = 1 starts, from the low end */
	struct strregs d, m, in;
	uint32_t dev_elements = 0;

	switch (s->kind) {
	case STR_STOS:
		dst_dev = true;
		break;
	case STR_LODS:
		src_dev = true;
		break;
	default:
		src_dev = variant != 0;		/* 0: RAM to WINDOW, 1: WINDOW to RAM, 2: WINDOW to WINDOW */
		dst_dev = variant != 1;
		break;
	}
	in.a = rnd_value();
	in.cx = s->rep ? n : rnd_value();	/* without REP, ECX must not change */
	in.di = in.si = 0;
	d = m = in;
	if (dst_dev) {
		d.di = dev + dst_off;
		m.di = (uintptr_t)mirror + dst_off;
		dev_elements += n;
	} else {
		d.di = (uintptr_t)ram_dev + roff;
		m.di = (uintptr_t)ram_mirror + roff;
	}
	if (src_dev) {
		d.si = dev + src_off;
		m.si = (uintptr_t)mirror + src_off;
		dev_elements += n;
	} else {
		d.si = (uintptr_t)ram_dev + roff;
		m.si = (uintptr_t)ram_mirror + roff;
	}
	if (down) {
		d.di += last;
		m.di += last;
		d.si += last;
		m.si += last;
	}
	memcpy(ram_mirror, ram_dev, sizeof(ram_dev));
	s->fn(&d, down);
	s->fn(&m, down);
	unknown = (dst_dev && elements_cross(dst_off, bytes, size)) ||
		  (src_dev && elements_cross(src_off, bytes, size));
	device_accessed(dev_elements, unknown);

	if (d.cx != m.cx || d.a != m.a ||
	    d.di - (dst_dev ? dev : (uintptr_t)ram_dev) != m.di - (dst_dev ? (uintptr_t)mirror : (uintptr_t)ram_mirror) ||
	    d.si - (src_dev ? dev : (uintptr_t)ram_dev) != m.si - (src_dev ? (uintptr_t)mirror : (uintptr_t)ram_mirror)) {
		printf("guest: mmio: %s: %s%s of %u elements: the device run ends with ecx %u eax 0x%x edi +0x%x esi +0x%x, the RAM run with ecx %u eax 0x%x edi +0x%x esi +0x%x (from their buffers)\n",
		       pass_name, s->name, down ? " (DF=1)" : "", n, d.cx, d.a,
		       d.di - (dst_dev ? dev : (uintptr_t)ram_dev), d.si - (src_dev ? dev : (uintptr_t)ram_dev),
		       m.cx, m.a, m.di - (dst_dev ? (uintptr_t)mirror : (uintptr_t)ram_mirror),
		       m.si - (src_dev ? (uintptr_t)mirror : (uintptr_t)ram_mirror));
		check_failed(__FILE__, __LINE__, "string instruction registers match");
	}
	if (memcmp(ram_dev, ram_mirror, sizeof(ram_dev))) {
		printf("guest: mmio: %s: %s%s of %u elements: RAM differs from the RAM run's\n", pass_name,
		       s->name, down ? " (DF=1)" : "", n);
		check_failed(__FILE__, __LINE__, "string instruction RAM matches");
	}
	if (dst_dev) {
		/* The range and a dword either side: nothing beyond the range may change. */
		uint32_t lo = dst_off >= TESTDEV_WINDOW + 4 ? dst_off - 4 : TESTDEV_WINDOW;
		uint32_t hi = dst_off + bytes + 4 <= TESTDEV_WINDOW_END ? dst_off + bytes + 4 : TESTDEV_WINDOW_END;

		check_range(lo, hi - lo, s->name);
	}
}

static void strings(void)
{
	for (uint32_t i = 0; i < PAGE_SIZE; i++)
		ram_dev[i] = (uint8_t)rnd();
	for (int i = 0; i < STRING_CASES; i++) {
		string_case(&strops[rnd_below(NSTROPS)]);
		count_check();
	}
	check_all("the string instructions");
	printf("guest: mmio: %s: %u string instructions (REP and single STOS, MOVS, LODS, both directions) match a RAM copy\n",
	       pass_name, STRING_CASES);
}

/* ---- the registers ------------------------------------------------------------------- */

static uint8_t id_byte(uint32_t i)
{
	return (uint8_t)((i < 4 ? TESTDEV_ID_LO : TESTDEV_ID_HI) >> (8 * (i & 3)));
}

static void check_id(void)
{
	uint32_t lo = dev_rd32(TESTDEV_ID), hi = dev_rd32(TESTDEV_ID + 4);

	if (lo != TESTDEV_ID_LO || hi != TESTDEV_ID_HI) {
		printf("guest: mmio: %s: no device at 0x%x: ID reads 0x%x%08x\n", pass_name, (uint32_t)dev, hi, lo);
		CHECK_EQ(lo, TESTDEV_ID_LO);
		CHECK_EQ(hi, TESTDEV_ID_HI);
	}
}

/* The doorbell rung by four different instructions: each write is one ring and sets LAST. */
static uint32_t ring(uint32_t k, uint32_t v, uint32_t rings)
{
	uintptr_t p = dev + TESTDEV_DOORBELL;
	uint32_t old;

	switch (k % 4) {
	case 0:
		dev_wr32(TESTDEV_DOORBELL, v);
		return v;
	case 1:
		asm volatile("movl $0xd00dfeed, (%0)" : : "r"(p) : "memory");
		device_accessed(1, false);
		return 0xd00dfeed;
	case 2:
		asm volatile("stosl" : "+D"(p) : "a"(v) : "memory");
		device_accessed(1, false);
		return v;
	default:
		/* XCHG reads RINGS, then writes: one more ring. */
		old = v;
		asm volatile("xchgl %0, (%1)" : "+r"(old) : "r"(p) : "memory");
		device_accessed(2, false);
		CHECK_EQ(old, rings);
		return v;
	}
}

static void registers(void)
{
	uint32_t c, c2, c3, rings, v, i;

	count_check();
	/* ID in every width and at every offset inside it; writes are ignored but counted. */
	check_id();
	for (i = 0; i < 8; i++)
		CHECK_EQ(dev_rd8(TESTDEV_ID + i), id_byte(i));
	for (i = 0; i < 8; i += 2)
		CHECK_EQ(dev_rd16(TESTDEV_ID + i), id_byte(i) | id_byte(i + 1) << 8);
	CHECK_EQ(dev_rd32(TESTDEV_ID + 1), 0x4F494D4Du);
	CHECK_EQ(dev_rd16(TESTDEV_ID + 5), 0x4544u);
	dev_wr32(TESTDEV_ID, 0);
	dev_wr8(TESTDEV_ID + 7, 0);
	check_id();
	count_check();

	/* COUNT: back-to-back reads differ by one; a write to it counts and changes nothing else. */
	c = dev_rd32(TESTDEV_COUNT);
	c2 = dev_rd32(TESTDEV_COUNT);
	CHECK_EQ(c2, c + 1);
	dev_wr32(TESTDEV_COUNT, 0);
	c3 = dev_rd32(TESTDEV_COUNT);
	CHECK_EQ(c3, c2 + 2);
	CHECK_EQ(dev_rd32(TESTDEV_COUNT + 4), 0);
	CHECK_EQ(dev_rd8(TESTDEV_COUNT), (c3 + 2) & 0xff);
	CHECK_EQ(dev_rd16(TESTDEV_COUNT + 1), ((c3 + 3) >> 8) & 0xffff);
	count_check();

	/* DOORBELL: 64 writes by MOV, MOV imm, STOS and XCHG; LAST follows, reads give RINGS. */
	rings = dev_rd32(TESTDEV_DOORBELL);
	for (i = 0; i < 64; i++) {
		v = ring(i, rnd_value(), rings);
		rings++;
		CHECK_EQ(dev_rd32(TESTDEV_LAST), v);
		if (i % 8 == 0)
			CHECK_EQ(dev_rd32(TESTDEV_LAST + 4), 0);
	}
	CHECK_EQ(dev_rd32(TESTDEV_DOORBELL), rings);
	CHECK_EQ(dev_rd16(TESTDEV_LAST + 2), v >> 16);
	dev_wr32(TESTDEV_LAST, ~v);
	CHECK_EQ(dev_rd32(TESTDEV_LAST), v);
	CHECK_EQ(dev_rd32(TESTDEV_DOORBELL), rings);
	count_check();

	/* Offsets outside every register read 0 and ignore writes. */
	static const uint32_t unused[] = { 0x28, 0x2c, 0x100, 0x7fc, 0x1800, 0x1a00, 0x1ffc };

	for (i = 0; i < sizeof(unused) / sizeof(unused[0]); i++) {
		CHECK_EQ(dev_rd32(unused[i]), 0);
		dev_wr32(unused[i], 0xffffffffu);
		CHECK_EQ(dev_rd32(unused[i]), 0);
	}
	CHECK_EQ(dev_rd8(0x7ff), 0);
	CHECK_EQ(dev_rd16(0x1ffe), 0);
	count_check();

	/* SCRATCH written a byte at a time, read back as dwords and bytes. */
	for (i = 0; i < 8; i++) {
		dev_wr8(TESTDEV_SCRATCH + i, (uint8_t)(0x10 + i * 0x11));
		mirror[TESTDEV_SCRATCH + i] = (uint8_t)(0x10 + i * 0x11);
	}
	check_range(TESTDEV_SCRATCH, 8, "byte writes to SCRATCH");
	CHECK_EQ(dev_rd8(TESTDEV_SCRATCH + 5), 0x65);

	/* A single-stepped MMIO write: the VMM emulates it, and the #DB must still come right after it. */
	v = rnd();
	struct step_trap t = step_write((volatile uint32_t *)(dev + TESTDEV_SCRATCH + 4), v);

	device_accessed(1, false);
	CHECK_STEP_TRAP(t);
	memcpy(mirror + TESTDEV_SCRATCH + 4, &v, 4);
	check_range(TESTDEV_SCRATCH, 8, "a single-stepped write");
	count_check();
}

/* MOV with a moffs operand (A0-A3) and an absolute ModRM address: they need the device at its default base. */
static void absolute_forms(void)
{
	uint32_t a, d;
	uint16_t w;
	uint8_t b;

	CHECK_EQ(dev, TESTDEV_BASE_DEFAULT);
	asm volatile("movl %c1, %0" : "=a"(a) : "i"(TESTDEV_BASE_DEFAULT + TESTDEV_SCRATCH) : "memory");
	CHECK_EQ(a, mirror32(TESTDEV_SCRATCH));
	asm volatile("movb %c1, %0" : "=a"(b) : "i"(TESTDEV_BASE_DEFAULT + TESTDEV_ID) : "memory");
	CHECK_EQ(b, 0x54);
	asm volatile("movw %c1, %0" : "=a"(w) : "i"(TESTDEV_BASE_DEFAULT + TESTDEV_ID + 2) : "memory");
	CHECK_EQ(w, 0x494D);
	asm volatile("movl %c1, %0" : "=d"(d) : "i"(TESTDEV_BASE_DEFAULT + TESTDEV_ID + 4) : "memory");
	CHECK_EQ(d, TESTDEV_ID_HI);
	device_accessed(4, false);
	a = 0x1234abcdu;
	asm volatile("movl %0, %c1" : : "a"(a), "i"(TESTDEV_BASE_DEFAULT + TESTDEV_SCRATCH) : "memory");
	asm volatile("movw %0, %c1" : : "a"((uint16_t)0x7788), "i"(TESTDEV_BASE_DEFAULT + TESTDEV_SCRATCH + 4) : "memory");
	asm volatile("movb %0, %c1" : : "a"((uint8_t)0x99), "i"(TESTDEV_BASE_DEFAULT + TESTDEV_SCRATCH + 6) : "memory");
	asm volatile("movl %0, %c1" : : "d"(0x0badf00du), "i"(TESTDEV_BASE_DEFAULT + TESTDEV_WINDOW) : "memory");
	/* ModRM mod 00, r/m 101: an absolute disp32, here in ADD and in a MOV with an imm8 ADD after it. */
	asm volatile("addl %0, %c1" : : "d"(0x11111111u), "i"(TESTDEV_BASE_DEFAULT + TESTDEV_SCRATCH) : "memory", "cc");
	asm volatile("addl $1, %c0" : : "i"(TESTDEV_BASE_DEFAULT + TESTDEV_WINDOW) : "memory", "cc");
	device_accessed(4 + 2 + 2, false);
	a = 0x1234abcdu + 0x11111111u;
	d = 0x0badf00du + 1;
	memcpy(mirror + TESTDEV_SCRATCH, &a, 4);
	mirror[TESTDEV_SCRATCH + 4] = 0x88;
	mirror[TESTDEV_SCRATCH + 5] = 0x77;
	mirror[TESTDEV_SCRATCH + 6] = 0x99;
	memcpy(mirror + TESTDEV_WINDOW, &d, 4);
	check_range(TESTDEV_SCRATCH, 8, "moffs and absolute writes");
	check_range(TESTDEV_WINDOW, 4, "moffs and absolute writes");
	count_check();
}

/* ---- memslots, the device's place and the generation ----------------------------------- */

/* The generation moved on by min to max since the last look; notes when its low 19 bits pass 0. */
static void gen_follow(uint32_t min, uint32_t max)
{
	uint32_t g = (uint32_t)hypercall(HC_MEMSLOT_GENERATION, 0, 0, 0);
	uint32_t moved = g - gen_now;

	if (moved < min || moved > max) {
		printf("guest: mmio: %s: the memslot generation went from 0x%x to 0x%x after %u changes\n",
		       pass_name, gen_now, g, changes);
		CHECK(moved >= min && moved <= max);
	}
	if (moved && (g & GEN_MASK) == 0 && !wrap_after)
		wrap_after = changes;
	gen_now = g;
}

static uint32_t slot_add(uint32_t gpa, uint32_t bytes)
{
	long id = hypercall(HC_MEMSLOT_ADD, gpa, bytes, 0);

	if (id <= 0) {
		printf("guest: mmio: %s: HC_MEMSLOT_ADD(0x%x, 0x%x) returned %ld\n", pass_name, gpa, bytes, id);
		CHECK(id > 0);
	}
	changes++;
	gen_follow(1, 1);
	return (uint32_t)id;
}

static void slot_delete(uint32_t id)
{
	CHECK_EQ(hypercall(HC_MEMSLOT_DELETE, id, 0, 0), 0);
	changes++;
	gen_follow(1, 1);
}

static void slot_move(uint32_t id, uint32_t gpa)
{
	CHECK_EQ(hypercall(HC_MEMSLOT_MOVE, id, gpa, 0), 0);
	changes++;
	gen_follow(1, 1);
}

/* Moving the device is no memslot change; the VMM may still count it as one. */
static void dev_move(uint32_t gpa)
{
	CHECK_EQ(hypercall(HC_MMIO_DEVICE_MOVE, gpa, 0, 0), 0);
	gen_follow(0, 1);
	dev = gpa;
}

/* A failed hypercall changes nothing, not even the generation. */
static void check_hc_error(uint32_t nr, uint32_t a0, uint32_t a1, long want)
{
	long got = hypercall(nr, a0, a1, 0);

	if (got != want) {
		printf("guest: mmio: hypercall %u(0x%x, 0x%x) returned %ld, not %ld\n", nr, a0, a1, got, want);
		CHECK_EQ(got, want);
	}
	gen_follow(0, 0);
}

/* The offsets sampled in RAM that replaces the device: its registers' places, both pages' ends. */
static const uint32_t ram_samples[] = {
	0x0, 0x4, 0x8, 0xc, 0x10, 0x18, 0x20, 0x7fc, 0x800, 0xffc, 0x1000, 0x17fc, 0x1800, 0x1ffc,
};

#define NSAMPLES	(sizeof(ram_samples) / sizeof(ram_samples[0]))

/* What ram_tag() stores: depends on the offset and the round, never on where the slot is. */
static uint32_t tag(uint32_t off, uint32_t salt)
{
	return (salt ^ off * 0x9e3779b9u) | 1;	/* never 0, never equal to the zero of new RAM */
}

/*
 * PUSH m32: an instruction the VMM's emulator does not know, so the read
 * works only if the CPU itself does it on RAM.  A stale MMIO translation
 * that sent it to the emulator would end the guest instead of reading RAM
 * the slow way, which would look right.
 */
static inline uint32_t ram_rd32(uintptr_t a)
{
	uint32_t v;

	asm volatile("pushl (%1)\n\tpopl %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static void ram_expect_zero(uint32_t gpa, const char *what)
{
	for (uint32_t i = 0; i < NSAMPLES; i++) {
		uint32_t got = ram_rd32(gpa + ram_samples[i]);

		if (got != 0) {
			printf("guest: mmio: %s: 0x%x reads 0x%x, not the 0 of new RAM (%s)\n", pass_name,
			       gpa + ram_samples[i], got, what);
			CHECK_EQ(got, 0);
		}
	}
}

static void ram_tag(uint32_t gpa, uint32_t salt)
{
	for (uint32_t i = 0; i < NSAMPLES; i++)
		wr32(gpa + ram_samples[i], tag(ram_samples[i], salt));
}

static void ram_expect_tags(uint32_t gpa, uint32_t salt, const char *what)
{
	for (uint32_t i = 0; i < NSAMPLES; i++) {
		uint32_t got = ram_rd32(gpa + ram_samples[i]), want = tag(ram_samples[i], salt);

		if (got != want) {
			printf("guest: mmio: %s: 0x%x reads 0x%x, the RAM there holds 0x%x (%s)\n", pass_name,
			       gpa + ram_samples[i], got, want, what);
			CHECK_EQ(got, want);
		}
	}
}

/* The device answers at dev, with its registers as they were: ID, SCRATCH, WINDOW, COUNT, then some random instructions. */
static void place_check(void)
{
	check_id();
	count_check();
	check_range(TESTDEV_SCRATCH, 8, "the move");
	check_range(TESTDEV_WINDOW, 4, "the move");
	check_range(0xffc, 8, "the move");
	check_range(TESTDEV_WINDOW_END - 4, 4, "the move");
	count_check();
	hammer(8);
}

/*
 * Accesses that are part RAM, part device: a RAM slot right below the
 * device (an access runs from it into ID) and one right above (from the
 * device's unused last bytes into RAM).
 */
static void crossing(void)
{
	uint32_t below = dev - PAGE_SIZE, above = dev + TESTDEV_SIZE;
	uint32_t lo = slot_add(below, PAGE_SIZE), hi = slot_add(above, PAGE_SIZE);
	uint32_t v, s, d;
	uint8_t buf[16];

	count_check();
	CHECK_EQ(rd32(dev - 4), 0);
	CHECK_EQ(rd32(above), 0);
	wr32(dev - 4, 0xaabbccddu);
	wr32(above, 0x99887766u);
	/* RAM bytes bb aa, then ID bytes 54 4d: one device access of 2 bytes. */
	CHECK_EQ(rd32(dev - 2), 0x4d54aabbu);
	/* A write across: the RAM half lands, ID ignores its half. */
	wr32(dev - 2, 0x11223344u);
	device_accessed(2, false);
	CHECK_EQ(rd32(dev - 4), 0x3344ccddu);
	check_id();
	/* The device's unused last bytes read 0; the RAM half is RAM. */
	CHECK_EQ(dev_rd32(TESTDEV_SIZE - 2), 0x77660000u);
	dev_wr32(TESTDEV_SIZE - 2, 0x12345678u);
	CHECK_EQ(rd32(above), 0x99881234u);
	count_check();
	/* REP MOVSB from the RAM below through ID: 8 RAM bytes, then "TMMIODEV". */
	s = dev - 8;
	d = (uint32_t)(uintptr_t)buf;
	v = 16;
	asm volatile("rep movsb" : "+S"(s), "+D"(d), "+c"(v) : : "memory");
	device_accessed(8, false);
	CHECK_EQ(v, 0);
	CHECK(memcmp(buf + 8, "TMMIODEV", 8) == 0);
	CHECK_EQ(buf[6], 0x44);
	/* REP STOSD from the device's last bytes into the RAM above: 2 elements ignored, 2 stored. */
	d = dev + TESTDEV_SIZE - 8;
	v = 4;
	asm volatile("rep stosl" : "+D"(d), "+c"(v) : "a"(0x5a5a5a5au) : "memory");
	device_accessed(2, false);
	CHECK_EQ(rd32(above), 0x5a5a5a5au);
	CHECK_EQ(rd32(above + 4), 0x5a5a5a5au);
	CHECK_EQ(rd32(above + 8), 0);
	count_check();
	slot_delete(lo);
	slot_delete(hi);
	place_check();
	printf("guest: mmio: %s: accesses and REP strings across RAM and the device ok\n", pass_name);
}

/*
 * The rounds: the device moves away and back, RAM comes and goes where it
 * was, slots move, in five patterns.  After every change, every access must
 * reach what is there now: new RAM reads 0 (no stale MMIO translation
 * serves it), a deleted slot's RAM no longer hides the device, a moved
 * slot's contents are at its new place.
 */
static void rounds(uint32_t min_changes)
{
	uint32_t start = changes, r;
	const uint32_t home = dev;

	for (r = 0; changes - start < min_changes; r++) {
		uint32_t there = ALT_BASE + (1 + r % ALT_PLACES) * ALT_STRIDE;
		uint32_t q = SLOT_BASE + (r % 16) * ALT_STRIDE, q2 = SLOT_FAR + (r % 16) * ALT_STRIDE;
		uint32_t salt = rnd(), s;

		place_check();
		dev_move(there);
		place_check();
		switch (r % 5) {
		case 0:	/* RAM where the device was; the device back once the RAM is gone */
			s = slot_add(home, TESTDEV_SIZE);
			ram_expect_zero(home, "a slot added where the device was");
			ram_tag(home, salt);
			place_check();
			ram_expect_tags(home, salt, "a slot added where the device was");
			slot_delete(s);
			dev_move(home);
			place_check();
			break;
		case 1:	/* the device moves under RAM, which hides it until the slot goes */
			s = slot_add(home, TESTDEV_SIZE);
			ram_expect_zero(home, "a slot added where the device was");
			ram_tag(home, salt);
			dev_move(home);
			ram_expect_tags(home, salt, "RAM over the device hides it");
			slot_delete(s);
			place_check();
			break;
		case 2:	/* a slot moves and its contents follow it */
			s = slot_add(home, TESTDEV_SIZE);
			ram_expect_zero(home, "a slot added where the device was");
			ram_tag(home, salt);
			slot_move(s, q);
			ram_expect_tags(q, salt, "a moved slot");
			dev_move(home);
			place_check();
			ram_expect_tags(q, salt, "a moved slot");
			slot_delete(s);
			break;
		case 3:	/* deleted and added again: new RAM is zero, whatever was mapped there before */
			s = slot_add(home, TESTDEV_SIZE);
			ram_tag(home, salt);
			slot_delete(s);
			s = slot_add(home, TESTDEV_SIZE);
			ram_expect_zero(home, "a slot deleted and added again");
			place_check();
			slot_delete(s);
			dev_move(home);
			place_check();
			break;
		default: /* a slot moved over the device hides it; moved away again, the device shows */
			s = slot_add(q, TESTDEV_SIZE);
			ram_expect_zero(q, "a new slot");
			ram_tag(q, salt);
			slot_move(s, there);
			ram_expect_tags(there, salt, "a slot moved over the device");
			slot_move(s, q2);
			place_check();
			ram_expect_tags(q2, salt, "a slot moved over the device and away");
			slot_delete(s);
			dev_move(home);
			place_check();
			break;
		}
	}
	printf("guest: mmio: %s: %u rounds, %u memslot changes: every access reached what was there\n",
	       pass_name, r, changes - start);
}

/* The hypercalls' errors, and the memslot table filling up. */
static void hypercall_errors(void)
{
	uint32_t ids[MAX_SLOTS_TRIED], s, n;
	long got = 0;

	check_hc_error(HC_MEMSLOT_ADD, SLOT_BASE + 0x800, PAGE_SIZE, HC_EINVAL);
	check_hc_error(HC_MEMSLOT_ADD, SLOT_BASE, 0x1234, HC_EINVAL);
	check_hc_error(HC_MEMSLOT_ADD, SLOT_BASE, 0, HC_EINVAL);
	check_hc_error(HC_MEMSLOT_ADD, 0x200000, PAGE_SIZE, HC_EINVAL);		/* inside slot 0 */
	check_hc_error(HC_MEMSLOT_ADD, SLOT_BASE, 0x1001000, HC_EINVAL);	/* more than 16 MiB */
	s = slot_add(SLOT_BASE, 2 * PAGE_SIZE);
	check_hc_error(HC_MEMSLOT_ADD, SLOT_BASE + PAGE_SIZE, PAGE_SIZE, HC_EINVAL);
	check_hc_error(HC_MEMSLOT_MOVE, s, SLOT_FAR + 0x10, HC_EINVAL);
	check_hc_error(HC_MEMSLOT_MOVE, s, 0x100000, HC_EINVAL);		/* onto slot 0 */
	check_hc_error(HC_MEMSLOT_MOVE, 0, SLOT_FAR, HC_EPERM);
	check_hc_error(HC_MEMSLOT_DELETE, 0, 0, HC_EPERM);
	check_hc_error(HC_MEMSLOT_DELETE, 0x7777, 0, HC_EINVAL);
	check_hc_error(HC_MEMSLOT_MOVE, 0x7777, SLOT_FAR, HC_EINVAL);
	check_hc_error(HC_MMIO_DEVICE_MOVE, dev + 0x800, 0, HC_EINVAL);
	check_hc_error(HC_MMU_STATS + 1, 0, 0, HC_ENOSYS);	/* the first unassigned number */
	slot_delete(s);
	check_hc_error(HC_MEMSLOT_DELETE, s, 0, HC_EINVAL);
	place_check();

	for (n = 0; n < MAX_SLOTS_TRIED; n++) {
		got = hypercall(HC_MEMSLOT_ADD, SLOT_SPARE + n * PAGE_SIZE, PAGE_SIZE, 0);
		if (got <= 0)
			break;
		ids[n] = (uint32_t)got;
		changes++;
		gen_follow(1, 1);
		for (uint32_t i = 0; i < n; i++)
			CHECK(ids[i] != ids[n]);
	}
	CHECK_EQ(got, HC_ENOSPC);
	gen_follow(0, 0);
	CHECK(n >= 1);
	for (uint32_t i = 0; i < n; i++)
		slot_delete(ids[i]);
	printf("guest: mmio: memslot hypercall errors ok (EINVAL, EPERM, ENOSYS; ENOSPC after %u more slots)\n", n);
}

/* ---- paging: permissions, A/D bits and remapping of MMIO pages ---------------------------- */

static uintptr_t alias(uint32_t i)
{
	return ALIAS_VA + i * PAGE_SIZE;
}

static void map_alias(uint32_t i, uint32_t entry)
{
	alias_pt[i] = entry;
	invlpg(alias(i));
}

static uintptr_t user_read(uintptr_t va)
{
	return pf_read(va, &user_value);
}

static uintptr_t user_write(uintptr_t va)
{
	return pf_write(va, USER_WRITE_VALUE);
}

static void identity_map(volatile uint32_t *pt, uint32_t base, uint32_t flags)
{
	for (uint32_t i = 0; i < ENTRIES; i++)
		pt[i] = (base + i * PAGE_SIZE) | flags;
}

static void enable_paging(void)
{
	identity_map(identity_pt, 0, PTE_URW);
	identity_pt[0] = 0;		/* a NULL pointer faults */
	identity_map(alt_pt, ALT_BASE, PTE_P | PTE_RW);
	identity_map(dev_pt, DEV_REGION, PTE_P | PTE_RW);
	pd[0] = (uint32_t)(uintptr_t)identity_pt | PTE_URW;
	pd[ALIAS_VA >> 22] = (uint32_t)(uintptr_t)alias_pt | PTE_URW;
	pd[ALT_BASE >> 22] = (uint32_t)(uintptr_t)alt_pt | PTE_P | PTE_RW;
	pd[DEV_REGION >> 22] = (uint32_t)(uintptr_t)dev_pt | PTE_P | PTE_RW;
	identity_map(identity_pt_smap, 0, PTE_P | PTE_RW);
	identity_pt_smap[0] = 0;
	for (uint32_t i = 1; i < ENTRIES; i++)
		pd_smap[i] = pd[i];
	pd_smap[0] = (uint32_t)(uintptr_t)identity_pt_smap | PTE_P | PTE_RW;
	write_cr3((uintptr_t)pd);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

/* One MOVSB from src to dst with #PF armed: the error code, or NO_PF. */
static uint32_t movs_probe(uintptr_t dst, uintptr_t src)
{
	expect_exception(EXC_PF);
	asm volatile(ASM_TRY("1f") "movsb\n1:" : "+S"(src), "+D"(dst) : : "memory");
	return exception_seen() == NO_EXCEPTION ? NO_PF : exception_last.error_code;
}

static inline void stac(void)
{
	asm volatile("stac" : : : "memory", "cc");
}

static inline void clac(void)
{
	asm volatile("clac" : : : "memory", "cc");
}

/*
 * SMAP on the device's user pages (aliases 0 and 2), in pd_smap where the
 * image is supervisor-only: a CPL-0 access faults unless EFLAGS.AC = 1,
 * also once an access with AC = 1 made the VMM cache the page.
 */
static void smap(void)
{
	if (!(cpuid(7, 0).ebx & CPUID_7_EBX_SMAP)) {
		printf("guest: mmio: %s: no SMAP in CPUID; SMAP checks skipped\n", pass_name);
		return;
	}
	write_cr3((uintptr_t)pd_smap);
	write_cr4(read_cr4() | CR4_SMAP);
	count_check();
	stac();
	CHECK_EQ(pf_read(alias(0) + TESTDEV_ID, &user_value), NO_PF);
	clac();
	CHECK_EQ(user_value, TESTDEV_ID_LO);
	CHECK_PF(pf_read(alias(0) + TESTDEV_ID, NULL), PFEC_P, alias(0) + TESTDEV_ID);
	stac();
	CHECK_EQ(pf_read(alias(0) + TESTDEV_ID + 4, &user_value), NO_PF);
	clac();
	CHECK_EQ(user_value, TESTDEV_ID_HI);
	CHECK_PF(pf_write(alias(2) + 0x20, 0x5a4d4150), PFEC_P | PFEC_W, alias(2) + 0x20);
	stac();
	CHECK_EQ(pf_write(alias(2) + 0x20, 0x5a4d4150), NO_PF);
	clac();
	write_cr4(read_cr4() & ~CR4_SMAP);
	CHECK_EQ(pf_read(alias(0) + TESTDEV_ID, &user_value), NO_PF);
	CHECK_EQ(user_value, TESTDEV_ID_LO);
	write_cr3((uintptr_t)pd);
	device_accessed(4, false);
	mirror[PAGE_SIZE + 0x20] = 0x50;
	mirror[PAGE_SIZE + 0x21] = 0x41;
	mirror[PAGE_SIZE + 0x22] = 0x4d;
	mirror[PAGE_SIZE + 0x23] = 0x5a;
	check_range(PAGE_SIZE + 0x20, 4, "a write with SMAP and EFLAGS.AC = 1");
	count_check();
}

/*
 * The device's pages mapped again at ALIAS_VA with other permissions: a
 * guest fault on an MMIO page must come with the guest's error code (never
 * RSVD), whether or not a translation of the page is cached; A and D get
 * set in the guest's PTE; and a PTE moved between the device and RAM takes
 * effect.
 */
static void protection(void)
{
	uint32_t v;

	ring3_init();
	map_alias(0, dev | PTE_P | PTE_US);				/* user, read-only */
	map_alias(1, dev | PTE_P);					/* supervisor, read-only */
	map_alias(2, (dev + PAGE_SIZE) | PTE_URW);			/* user, read-write: WINDOW's second half */
	map_alias(3, dev | PTE_P | PTE_RW);				/* supervisor, read-write */
	count_check();

	/* CPL 3 on the user read-only page: the write faults before a read cached the page, and after. */
	CHECK_PF(ring3_call(user_write, alias(0) + TESTDEV_SCRATCH), PFEC_P | PFEC_W | PFEC_U,
		 alias(0) + TESTDEV_SCRATCH);
	CHECK_EQ(ring3_call(user_read, alias(0) + TESTDEV_ID), NO_PF);
	CHECK_EQ(user_value, TESTDEV_ID_LO);
	CHECK_PF(ring3_call(user_write, alias(0) + TESTDEV_SCRATCH), PFEC_P | PFEC_W | PFEC_U,
		 alias(0) + TESTDEV_SCRATCH);
	CHECK_EQ(ring3_call(user_read, alias(0) + TESTDEV_ID + 4), NO_PF);
	CHECK_EQ(user_value, TESTDEV_ID_HI);
	device_accessed(2, false);	/* the faulting writes never reached the device */
	count_check();

	/* CPL 3 on the supervisor page faults, before and after a CPL-0 read cached the page; on the user read-write page it writes WINDOW. */
	CHECK_PF(ring3_call(user_read, alias(3) + TESTDEV_SCRATCH), PFEC_P | PFEC_U, alias(3) + TESTDEV_SCRATCH);
	CHECK_EQ(rd32(alias(3) + TESTDEV_ID), TESTDEV_ID_LO);
	device_accessed(1, false);
	CHECK_PF(ring3_call(user_read, alias(3) + TESTDEV_SCRATCH), PFEC_P | PFEC_U, alias(3) + TESTDEV_SCRATCH);
	CHECK_PF(ring3_call(user_write, alias(3) + TESTDEV_SCRATCH), PFEC_P | PFEC_W | PFEC_U,
		 alias(3) + TESTDEV_SCRATCH);
	CHECK_EQ(ring3_call(user_read, alias(2) + 0x10), NO_PF);
	CHECK_EQ(user_value, mirror32(PAGE_SIZE + 0x10));
	CHECK_EQ(ring3_call(user_write, alias(2) + 0x10), NO_PF);
	device_accessed(2, false);
	v = USER_WRITE_VALUE;
	memcpy(mirror + PAGE_SIZE + 0x10, &v, 4);
	check_range(PAGE_SIZE + 0x10, 4, "a CPL-3 write");
	count_check();

	/* CR0.WP: a supervisor write to the read-only page (cached by a read first) faults with WP = 1 and reaches the device with WP = 0. */
	CHECK_EQ(rd32(alias(1) + TESTDEV_ID), TESTDEV_ID_LO);
	device_accessed(1, false);
	CHECK_PF(pf_write(alias(1) + TESTDEV_SCRATCH, 0x600d600d), PFEC_P | PFEC_W, alias(1) + TESTDEV_SCRATCH);
	write_cr0(read_cr0() & ~CR0_WP);
	CHECK_EQ(pf_write(alias(1) + TESTDEV_SCRATCH, 0x600d600d), NO_PF);
	write_cr0(read_cr0() | CR0_WP);
	CHECK_PF(pf_write(alias(1) + TESTDEV_SCRATCH, 0xbad0bad0), PFEC_P | PFEC_W, alias(1) + TESTDEV_SCRATCH);
	device_accessed(1, false);
	v = 0x600d600d;
	memcpy(mirror + TESTDEV_SCRATCH, &v, 4);
	check_range(TESTDEV_SCRATCH, 4, "a supervisor write with CR0.WP = 0");
	count_check();
	/*
	 * MOVS inside the read-only page: its read comes first (and is what
	 * exits), its write to the same page must still be checked: #PF P|W on
	 * the destination, nothing written.
	 */
	CHECK_EQ(rd32(alias(1) + 0x900), mirror32(0x900));
	CHECK_PF(movs_probe(alias(1) + 0x910, alias(1) + 0x900), PFEC_P | PFEC_W, alias(1) + 0x910);
	device_accessed(1, true);	/* the source may have been read before the fault */
	check_range(0x910, 4, "a MOVS that faults on its write");
	count_check();

	/* A and D in the PTE of an MMIO page: a read sets A only, the first write D. */
	map_alias(3, dev | PTE_P | PTE_RW);
	CHECK_EQ(rd32(alias(3) + TESTDEV_ID), TESTDEV_ID_LO);
	CHECK_EQ(alias_pt[3] & (PTE_A | PTE_D), PTE_A);
	CHECK_EQ(rd32(alias(3) + TESTDEV_ID + 4), TESTDEV_ID_HI);
	CHECK_EQ(alias_pt[3] & (PTE_A | PTE_D), PTE_A);
	v = rnd();
	wr32(alias(3) + TESTDEV_SCRATCH + 4, v);
	CHECK_EQ(alias_pt[3] & (PTE_A | PTE_D), PTE_A | PTE_D);
	memcpy(mirror + TESTDEV_SCRATCH + 4, &v, 4);
	map_alias(3, dev | PTE_P | PTE_RW);
	v = rnd();
	wr32(alias(3) + TESTDEV_SCRATCH, v);
	CHECK_EQ(alias_pt[3] & (PTE_A | PTE_D), PTE_A | PTE_D);
	memcpy(mirror + TESTDEV_SCRATCH, &v, 4);
	/* MOVS within the page after a read: its write sets D. */
	map_alias(3, dev | PTE_P | PTE_RW);
	CHECK_EQ(rd32(alias(3) + 0x900), mirror32(0x900));
	CHECK_EQ(alias_pt[3] & (PTE_A | PTE_D), PTE_A);
	CHECK_EQ(movs_probe(alias(3) + 0x911, alias(3) + 0x901), NO_PF);
	CHECK_EQ(alias_pt[3] & (PTE_A | PTE_D), PTE_A | PTE_D);
	mirror[0x911] = mirror[0x901];
	device_accessed(3, false);
	check_range(0x911, 1, "a MOVS within one page");
	/* A read-modify-write after a read: its write half sets D too. */
	map_alias(3, dev | PTE_P | PTE_RW);
	CHECK_EQ(rd32(alias(3) + TESTDEV_SCRATCH), v);
	CHECK_EQ(alias_pt[3] & (PTE_A | PTE_D), PTE_A);
	asm volatile("addl $0x101, (%0)" : : "r"(alias(3) + TESTDEV_SCRATCH) : "memory", "cc");
	CHECK_EQ(alias_pt[3] & (PTE_A | PTE_D), PTE_A | PTE_D);
	v += 0x101;
	memcpy(mirror + TESTDEV_SCRATCH, &v, 4);
	device_accessed(4 + 3, false);
	check_range(TESTDEV_SCRATCH, 8, "writes through a fresh PTE");
	count_check();

	/* One PTE moved from the device to RAM and back (to the second page). */
	memset(ram_frame, 0x3c, sizeof(ram_frame));
	map_alias(4, dev | PTE_P | PTE_RW);
	CHECK_EQ(rd32(alias(4) + TESTDEV_ID), TESTDEV_ID_LO);
	map_alias(4, (uint32_t)(uintptr_t)ram_frame | PTE_P | PTE_RW);
	CHECK_EQ(rd32(alias(4) + TESTDEV_ID), 0x3c3c3c3cu);
	wr32(alias(4) + TESTDEV_SCRATCH, 0x11112222u);
	CHECK_EQ(rd32((uintptr_t)ram_frame + TESTDEV_SCRATCH), 0x11112222u);
	map_alias(4, (dev + PAGE_SIZE) | PTE_P | PTE_RW);
	CHECK_EQ(rd32(alias(4) + 0x7fc), mirror32(TESTDEV_WINDOW_END - 4));
	map_alias(4, (uint32_t)(uintptr_t)ram_frame | PTE_P | PTE_RW);
	CHECK_EQ(rd32(alias(4) + 0x7fc), 0x3c3c3c3cu);
	device_accessed(2, false);
	check_range(TESTDEV_SCRATCH, 8, "remapping");
	count_check();

	/*
	 * Accesses across two device pages whose second page is read-only, then
	 * not present: the write faults on the second page (CR2 = its start)
	 * and changes neither page; the read works, then faults the same way.
	 */
	map_alias(6, dev | PTE_P | PTE_RW);
	map_alias(7, (dev + PAGE_SIZE) | PTE_P);
	CHECK_PF(pf_write(alias(7) - 2, 0xdeadbeef), PFEC_P | PFEC_W, alias(7));
	count_check();
	CHECK_EQ(pf_read(alias(7) - 2, &user_value), NO_PF);
	CHECK_EQ(user_value, mirror32(0xffe));
	device_accessed(1, true);	/* one access in two pieces, or two */
	map_alias(7, 0);
	CHECK_PF(pf_read(alias(7) - 2, NULL), 0, alias(7));
	CHECK_PF(pf_write(alias(7) - 2, 0xdeadbeef), PFEC_W, alias(7));
	check_range(0xffc, 8, "faulting accesses across two pages");
	count_check();

	smap();
	for (uint32_t i = 0; i < 8; i++)
		map_alias(i, 0);
	printf("guest: mmio: %s: user, supervisor, CR0.WP, SMAP, A/D bits and remapping of MMIO pages ok\n", pass_name);
}

/* ---- the passes ------------------------------------------------------------------------ */

/* Resets the device's RAM-like bytes to a random state the mirror knows. */
static void fill_device(void)
{
	uint32_t s = (uint32_t)(uintptr_t)ram_dev, d = dev + TESTDEV_WINDOW, n = PAGE_SIZE / 4;

	for (uint32_t i = 0; i < PAGE_SIZE; i++)
		ram_dev[i] = (uint8_t)rnd();
	asm volatile("rep movsl" : "+S"(s), "+D"(d), "+c"(n) : : "memory");
	device_accessed(PAGE_SIZE / 4, false);
	memcpy(mirror + TESTDEV_WINDOW, ram_dev, PAGE_SIZE);
	for (uint32_t off = TESTDEV_SCRATCH; off < TESTDEV_SCRATCH + 8; off += 4) {
		uint32_t v = rnd();

		dev_wr32(off, v);
		memcpy(mirror + off, &v, 4);
	}
}

static void run_pass(const char *name, uint32_t ops_n, bool first)
{
	pass_name = name;
	count_checks = 0;
	count_known = false;
	count_check();
	if (first) {
		/* WINDOW is zeroed at reset. */
		for (uint32_t off = TESTDEV_WINDOW; off < TESTDEV_WINDOW_END; off += 4)
			CHECK_EQ(dev_rd32(off), 0);
		count_check();
	}
	fill_device();
	check_all("filling the device");
	hammer(ops_n);
	check_all("the random instructions");
	printf("guest: mmio: %s: %u random accesses (%u instruction forms) match a RAM copy; COUNT checked %u times\n",
	       name, ops_n, (uint32_t)NOPS, count_checks);
	strings();
	registers();
	absolute_forms();
	printf("guest: mmio: %s: ID, COUNT, DOORBELL/LAST, unused offsets, moffs forms and a single-stepped write ok\n",
	       name);
	if (!first)
		protection();
	crossing();
	if (first)
		hypercall_errors();
	rounds(PASS_CHANGES);
	check_all("the rounds");
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);
	uint32_t n = first_count_arg(mbi, DEFAULT_OPS, MAX_OPS);	/* random accesses per pass */

	if (n == 0) {
		printf("guest: mmio: the argument must be a number of accesses, 1 to %u\n", MAX_OPS);
		return EXIT_FAIL;
	}
	if (!under_vmm()) {
		/* Without the VMM there is no test device and VMCALL is #UD. */
		printf("guest: mmio: not under the VMM; no MMIO test device to test\n");
		return guest_pass("mmio");
	}
	check_memory_layout(mbi, IDENTITY_END, IDENTITY_END);
	gen_now = (uint32_t)hypercall(HC_MEMSLOT_GENERATION, 0, 0, 0);
	CHECK(gen_now != (uint32_t)HC_ENOSYS);
	uint32_t to_wrap = GEN_MASK + 1 - (gen_now & GEN_MASK);

	printf("guest: mmio: memslot generation 0x%x: %u changes before its low 19 bits wrap\n", gen_now, to_wrap);
	CHECK(to_wrap <= GEN_WRAP_MAX);
	check_id();

	run_pass("paging off", n, true);
	enable_paging();
	run_pass("32-bit paging", n, false);

	CHECK(wrap_after);
	printf("guest: mmio: the generation's low 19 bits went through 0 after %u memslot changes; %u changes in all, generation now 0x%x\n",
	       wrap_after, changes, gen_now);
	return guest_pass("mmio");
}
