/* testdev: QEMU's pc-testdev: the read-back port (plain and string I/O), IRQ lines, flush, and the 64 KiB MMIO window through the emulator. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/string.h"
#include "guest/lib/x86.h"

#define TD_IOPORT	0xe0
#define TD_FLUSH	0xe4
#define TD_IOPORT_BYTE	0xe8
#define TD_IRQ		0x2000
#define TD_WINDOW	0xff000000u
#define TD_WINDOW_SIZE	0x10000u

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1
#define OCW3_READ_IRR	0x0a

#define CR0_MP		(1u << 1)
#define CR0_EM		(1u << 2)
#define CR0_PG		(1u << 31)
#define CR4_OSFXSR	(1u << 9)
#define PDE_P		0x001u
#define PDE_RW		0x002u
#define PDE_PS		0x080u

#define PAGE		4096u
/* A linear region that paging maps onto window pages out of order. */
#define SCRAMBLED	0x40000000u

/* Parts the VMM may lack, skipped by argument: "no-sse", "no-cmps", "no-insmmio". */
static bool skip_sse, skip_cmps, skip_insmmio;

static volatile uint8_t *const win = (volatile uint8_t *)TD_WINDOW;

static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t page_table[1024] __attribute__((aligned(4096)));
static uint8_t ram[PAGE] __attribute__((aligned(16)));

static bool word_is(const char *p, const char *w)
{
	while (*w && *p == *w) {
		p++;
		w++;
	}
	return !*w && (!*p || *p == ' ');
}

static void parse_args(const struct multiboot_info *mbi)
{
	if (!(mbi->flags & MBI_FLAG_CMDLINE) || !mbi->cmdline)
		return;
	const char *p = (const char *)mbi->cmdline;

	while (*p && *p != ' ')		/* the program name */
		p++;
	while (*p) {
		while (*p == ' ')
			p++;
		if (word_is(p, "no-sse"))
			skip_sse = true;
		else if (word_is(p, "no-cmps"))
			skip_cmps = true;
		else if (word_is(p, "no-insmmio"))
			skip_insmmio = true;
		else if (*p)
			CHECK(!"unknown argument");
		while (*p && *p != ' ')
			p++;
	}
}

/* ---- the read-back register ---- */

static void test_ioport(void)
{
	outl(TD_IOPORT, 0x11223344);
	CHECK_EQ(inl(TD_IOPORT), 0x11223344);
	CHECK_EQ(inw(TD_IOPORT), 0x3344);
	CHECK_EQ(inw(TD_IOPORT + 2), 0x1122);
	CHECK_EQ(inb(TD_IOPORT + 1), 0x33);
	CHECK_EQ(inb(TD_IOPORT + 3), 0x11);
	outb(TD_IOPORT + 2, 0xab);
	CHECK_EQ(inl(TD_IOPORT), 0x11ab3344);
	outw(TD_IOPORT, 0xcdef);
	CHECK_EQ(inl(TD_IOPORT), 0x11abcdef);
	/* The byte-wise alias reaches the same register. */
	CHECK_EQ(inl(TD_IOPORT_BYTE), 0x11abcdef);
	outw(TD_IOPORT_BYTE + 2, 0x7788);
	CHECK_EQ(inl(TD_IOPORT), 0x7788cdef);
	CHECK_EQ(inb(TD_IOPORT_BYTE + 3), 0x77);
}

static void test_string_io_with_ram(void)
{
	static const uint8_t bytes[4] = { 1, 2, 3, 4 };
	static const uint16_t words[2] = { 0x1111, 0x2222 };
	static const uint32_t dwords[2] = { 0xa5a5a5a5, 0x600dc0de };
	uint32_t in[4] = { 0 };
	const void *src;
	void *dst;
	uint32_t n;

	outl(TD_IOPORT, 0);
	src = bytes;
	n = 4;
	asm volatile("rep outsb" : "+S"(src), "+c"(n) : "d"(TD_IOPORT) : "memory");
	CHECK_EQ(n, 0);
	CHECK((const uint8_t *)src == bytes + 4);
	CHECK_EQ(inl(TD_IOPORT), 0x04);
	src = words;
	n = 2;
	asm volatile("rep outsw" : "+S"(src), "+c"(n) : "d"(TD_IOPORT + 2) : "memory");
	CHECK_EQ(inl(TD_IOPORT), 0x22220004);
	src = dwords;
	n = 2;
	asm volatile("rep outsl" : "+S"(src), "+c"(n) : "d"(TD_IOPORT) : "memory");
	CHECK_EQ(inl(TD_IOPORT), 0x600dc0de);
	dst = in;
	n = 8;
	asm volatile("rep insb" : "+D"(dst), "+c"(n) : "d"(TD_IOPORT + 1) : "memory");
	CHECK_EQ(in[0], 0xc0c0c0c0);
	CHECK_EQ(in[1], 0xc0c0c0c0);
	CHECK_EQ(in[2], 0);
	dst = in;
	n = 3;
	asm volatile("rep insl" : "+D"(dst), "+c"(n) : "d"(TD_IOPORT) : "memory");
	CHECK((uint32_t *)dst == in + 3);
	CHECK_EQ(in[2], 0x600dc0de);
	CHECK_EQ(in[3], 0);
}

/* ---- IRQ lines and flush ---- */

static uint8_t read_irr(uint16_t cmd)
{
	outb(cmd, OCW3_READ_IRR);
	return inb(cmd);
}

/* Writing v to 0x2000 + n sets ISA IRQ n to level v != 0: a rising edge shows in the 8259's IRR, masked or not. */
static void test_irq_lines(void)
{
	/* Both 8259s: vectors 0x20/0x28, cascade on IR2, 8086 mode, everything masked (IF stays 0 anyway). */
	outb(PIC1_CMD, 0x11);
	outb(PIC1_DATA, 0x20);
	outb(PIC1_DATA, 0x04);
	outb(PIC1_DATA, 0x01);
	outb(PIC2_CMD, 0x11);
	outb(PIC2_DATA, 0x28);
	outb(PIC2_DATA, 0x02);
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);

	CHECK_EQ(read_irr(PIC1_CMD) & (1u << 5), 0);
	CHECK_EQ(read_irr(PIC2_CMD) & (1u << 2), 0);
	outb(TD_IRQ + 5, 1);
	CHECK_EQ(read_irr(PIC1_CMD) & (1u << 5), 1u << 5);
	/* Edge-triggered: the request stays after the line falls. */
	outb(TD_IRQ + 5, 0);
	CHECK_EQ(read_irr(PIC1_CMD) & (1u << 5), 1u << 5);
	outb(TD_IRQ + 10, 0x80);
	CHECK_EQ(read_irr(PIC2_CMD) & (1u << 2), 1u << 2);
	outb(TD_IRQ + 10, 0);
	CHECK_EQ(inb(TD_IRQ + 5), 0);
}

static void test_flush(void)
{
	for (unsigned i = 0; i < PAGE; i++)
		ram[i] = (uint8_t)(i * 7);
	outl(TD_FLUSH, (uint32_t)(uintptr_t)ram);
	for (unsigned i = 0; i < PAGE; i++)
		CHECK_EQ(ram[i], (uint8_t)(i * 7));
	CHECK_EQ(inl(TD_IOPORT), 0x600dc0de);
}

/* ---- the MMIO window: plain, locked, string, page-crossing ---- */

static void check_window(uint32_t offset, const uint8_t *want, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (win[offset + i] != want[i]) {
			printf("guest: window byte 0x%x is 0x%x, want 0x%x\n", offset + i, win[offset + i],
			       want[i]);
			CHECK(!"window contents");
		}
}

static void test_window_moves(void)
{
	volatile uint32_t *d = (volatile uint32_t *)(TD_WINDOW + 0x100);
	volatile uint16_t *w = (volatile uint16_t *)(TD_WINDOW + 0x121);
	volatile uint32_t *cross = (volatile uint32_t *)(TD_WINDOW + 0xffe);

	*d = 0xdeadbeef;
	CHECK_EQ(*d, 0xdeadbeef);
	CHECK_EQ(win[0x101], 0xbe);
	*w = 0x1234;
	CHECK_EQ(*w, 0x1234);
	CHECK_EQ(win[0x122], 0x12);
	win[0x7] = 0x99;
	CHECK_EQ(win[0x7], 0x99);
	/* A dword across the boundary of the window's first two pages, and the window's last dword. */
	*cross = 0xa1b2c3d4;
	CHECK_EQ(*cross, 0xa1b2c3d4);
	CHECK_EQ(win[0xfff], 0xc3);
	CHECK_EQ(win[0x1000], 0xb2);
	*(volatile uint32_t *)(TD_WINDOW + TD_WINDOW_SIZE - 4) = 0x0badf00d;
	CHECK_EQ(*(volatile uint32_t *)(TD_WINDOW + TD_WINDOW_SIZE - 4), 0x0badf00d);
	CHECK_EQ(*(volatile uint16_t *)(TD_WINDOW + TD_WINDOW_SIZE - 2), 0x0bad);
}

static void test_window_locked(void)
{
	volatile uint32_t *p = (volatile uint32_t *)(TD_WINDOW + 0x200);
	uint32_t v, old;
	uint8_t ok;

	*p = 100;
	v = 5;
	asm volatile("lock xaddl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	CHECK_EQ(v, 100);
	CHECK_EQ(*p, 105);
	asm volatile("lock addl $10, %0" : "+m"(*p) : : "memory");
	asm volatile("lock incl %0" : "+m"(*p) : : "memory");
	CHECK_EQ(*p, 116);
	asm volatile("lock orl $0x80000000, %0" : "+m"(*p) : : "memory");
	CHECK_EQ(*p, 0x80000074);
	/* CMPXCHG that matches, then one that does not (EAX gets the memory value). */
	old = 0x80000074;
	asm volatile("lock cmpxchgl %3, %1; sete %2" : "+a"(old), "+m"(*p), "=q"(ok) : "r"(7u) : "memory", "cc");
	CHECK(ok);
	CHECK_EQ(*p, 7);
	old = 1;
	asm volatile("lock cmpxchgl %3, %1; sete %2" : "+a"(old), "+m"(*p), "=q"(ok) : "r"(9u) : "memory", "cc");
	CHECK(!ok);
	CHECK_EQ(old, 7);
	CHECK_EQ(*p, 7);
	/* XCHG with memory is locked without a prefix. */
	v = 0x5555aaaa;
	asm volatile("xchgl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	CHECK_EQ(v, 7);
	CHECK_EQ(*p, 0x5555aaaa);
	/* BTS/BTR report the old bit. */
	asm volatile("lock btsl $0, %0; setc %1" : "+m"(*p), "=q"(ok) : : "memory", "cc");
	CHECK(!ok);
	CHECK_EQ(*p, 0x5555aaab);
	asm volatile("lock btrl $1, %0; setc %1" : "+m"(*p), "=q"(ok) : : "memory", "cc");
	CHECK(ok);
	CHECK_EQ(*p, 0x5555aaa9);

	/* CMPXCHG8B across a page boundary of the window. */
	volatile uint64_t *q = (volatile uint64_t *)(TD_WINDOW + 0x1ffc);
	uint32_t lo = 0x01020304, hi = 0x05060708;

	*(volatile uint32_t *)(TD_WINDOW + 0x1ffc) = lo;
	*(volatile uint32_t *)(TD_WINDOW + 0x2000) = hi;
	asm volatile("lock cmpxchg8b %2; sete %3"
		     : "+a"(lo), "+d"(hi), "+m"(*q), "=q"(ok)
		     : "b"(0xcafef00du), "c"(0x11112222u)
		     : "memory", "cc");
	CHECK(ok);
	CHECK_EQ(*(volatile uint32_t *)(TD_WINDOW + 0x1ffc), 0xcafef00d);
	CHECK_EQ(*(volatile uint32_t *)(TD_WINDOW + 0x2000), 0x11112222);
	CHECK_EQ(win[0x1fff], 0xca);
}

static void test_window_strings(void)
{
	uint8_t back[200];
	const void *src;
	void *dst;
	uint32_t n;

	for (unsigned i = 0; i < sizeof(back); i++)
		ram[i] = (uint8_t)(0x40 + i);
	/* RAM to window across 0x3000, then back to RAM with dwords. */
	src = ram;
	dst = (void *)(TD_WINDOW + 0x2fa0);
	n = 200;
	asm volatile("rep movsb" : "+S"(src), "+D"(dst), "+c"(n) : : "memory");
	CHECK_EQ((uintptr_t)dst, TD_WINDOW + 0x2fa0 + 200);
	check_window(0x2fa0, ram, 200);
	src = (const void *)(TD_WINDOW + 0x2fa0);
	dst = back;
	n = 50;
	asm volatile("rep movsl" : "+S"(src), "+D"(dst), "+c"(n) : : "memory");
	CHECK(memcmp(back, ram, 200) == 0);
	/* STOS into the window, LODS out of it. */
	dst = (void *)(TD_WINDOW + 0x4000);
	n = 16;
	asm volatile("rep stosl" : "+D"(dst), "+c"(n) : "a"(0x5a5a5a5au) : "memory");
	CHECK_EQ(*(volatile uint32_t *)(TD_WINDOW + 0x403c), 0x5a5a5a5a);
	CHECK_EQ(win[0x4040], 0);
	uint32_t v;

	src = (const void *)(TD_WINDOW + 0x2fa0);
	asm volatile("lodsl" : "=a"(v), "+S"(src) : : "memory");
	CHECK_EQ(v, 0x43424140);
}

/*
 * 32-bit paging: 4 MiB identity pages, and SCRAMBLED mapping window page 3
 * then window page 1, so an access across SCRAMBLED + 0x1000 lands in two
 * window pages that are not adjacent.
 */
static void test_window_paged(void)
{
	for (unsigned i = 0; i < 1024; i++)
		page_dir[i] = (i << 22) | PDE_P | PDE_RW | PDE_PS;
	for (unsigned i = 0; i < 1024; i++)
		page_table[i] = 0;
	page_table[0] = (TD_WINDOW + 3 * PAGE) | PDE_P | PDE_RW;
	page_table[1] = (TD_WINDOW + 1 * PAGE) | PDE_P | PDE_RW;
	page_dir[SCRAMBLED >> 22] = (uint32_t)(uintptr_t)page_table | PDE_P | PDE_RW;
	write_cr4(read_cr4() | CR4_PSE);
	write_cr3((uintptr_t)page_dir);
	write_cr0(read_cr0() | CR0_PG);

	volatile uint32_t *p = (volatile uint32_t *)(SCRAMBLED + 0xffe);

	*p = 0x44332211;
	CHECK_EQ(*p, 0x44332211);
	CHECK_EQ(win[3 * PAGE + 0xffe], 0x11);
	CHECK_EQ(win[3 * PAGE + 0xfff], 0x22);
	CHECK_EQ(win[1 * PAGE + 0], 0x33);
	CHECK_EQ(win[1 * PAGE + 1], 0x44);
	asm volatile("lock addl $1, %0" : "+m"(*p) : : "memory");
	CHECK_EQ(win[3 * PAGE + 0xffe], 0x12);
	/* A string move across the scrambled boundary. */
	const void *src = ram;
	void *dst = (void *)(SCRAMBLED + 0xfc0);
	uint32_t n = 128;

	asm volatile("rep movsb" : "+S"(src), "+D"(dst), "+c"(n) : : "memory");
	check_window(3 * PAGE + 0xfc0, ram, 64);
	check_window(1 * PAGE, ram + 64, 64);

	write_cr0(read_cr0() & ~CR0_PG);
}

static void test_window_sse(void)
{
	uint8_t out[16] __attribute__((aligned(16)));

	if (skip_sse) {
		printf("guest: testdev: SSE moves skipped (no-sse)\n");
		return;
	}
	write_cr0((read_cr0() & ~CR0_EM) | CR0_MP);
	write_cr4(read_cr4() | CR4_OSFXSR);
	for (unsigned i = 0; i < 16; i++)
		ram[i] = (uint8_t)(0xe0 + i);
	/* 16 bytes across 0x6000 with MOVUPS, read back with MOVDQU. */
	asm volatile("movups (%0), %%xmm0\n\tmovups %%xmm0, (%1)" : : "r"(ram), "r"(TD_WINDOW + 0x5ff8) : "memory");
	check_window(0x5ff8, ram, 16);
	asm volatile("movdqu (%0), %%xmm1\n\tmovdqu %%xmm1, (%1)" : : "r"(TD_WINDOW + 0x5ff8), "r"(out) : "memory");
	CHECK(memcmp(out, ram, 16) == 0);
	printf("guest: testdev: SSE moves to and from the window work\n");
}

static void test_window_cmps_scas(void)
{
	const void *a, *b;
	void *d;
	uint32_t n;

	if (skip_cmps) {
		printf("guest: testdev: CMPS/SCAS skipped (no-cmps)\n");
		return;
	}
	for (unsigned i = 0; i < 64; i++)
		win[0x7000 + i] = ram[i] = (uint8_t)(3 * i);
	win[0x7000 + 40] = 0xee;
	/* REPE CMPSB stops after the first difference, at index 40. */
	a = (const void *)(TD_WINDOW + 0x7000);
	b = ram;
	n = 64;
	asm volatile("repe cmpsb" : "+S"(a), "+D"(b), "+c"(n) : : "memory", "cc");
	CHECK_EQ(n, 64 - 41);
	CHECK_EQ((uintptr_t)a, TD_WINDOW + 0x7000 + 41);
	/* REPNE SCASB finds the byte 0xee in the window. */
	d = (void *)(TD_WINDOW + 0x7000);
	n = 64;
	asm volatile("repne scasb" : "+D"(d), "+c"(n) : "a"(0xeeu) : "memory", "cc");
	CHECK_EQ((uintptr_t)d, TD_WINDOW + 0x7000 + 41);
	CHECK_EQ(n, 64 - 41);
	printf("guest: testdev: CMPS/SCAS on the window work\n");
}

static void test_window_insb(void)
{
	void *d;
	uint32_t n;

	if (skip_insmmio) {
		printf("guest: testdev: rep insb into the window skipped (no-insmmio)\n");
		return;
	}
	for (unsigned i = 0; i < 0x200; i++)
		win[0x8f00 + i] = 0x11;
	outl(TD_IOPORT, 0x5a);
	d = (void *)(TD_WINDOW + 0x8f80);
	n = 0x120;
	asm volatile("rep insb" : "+D"(d), "+c"(n) : "d"(TD_IOPORT) : "memory");
	CHECK_EQ(n, 0);
	CHECK_EQ((uintptr_t)d, TD_WINDOW + 0x8f80 + 0x120);
	for (unsigned i = 0; i < 0x200; i++)
		CHECK_EQ(win[0x8f00 + i], i >= 0x80 && i < 0x80 + 0x120 ? 0x5a : 0x11);
	printf("guest: testdev: rep insb from port 0xe0 into the window works\n");
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);
	parse_args(mbi);
	test_ioport();
	test_string_io_with_ram();
	test_irq_lines();
	test_flush();
	test_window_moves();
	test_window_locked();
	test_window_strings();
	test_window_paged();
	test_window_sse();
	test_window_cmps_scas();
	test_window_insb();
	return guest_pass("testdev");
}
