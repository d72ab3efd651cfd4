/* MODULES.TXT: one "FILE [ARGS]" line per boot module, turned into file names and "NAME ARGS" command lines. */
#include "boot/efi_modlist.h"

_Static_assert(EFI_MODLIST_MAX == 16 && EFI_MODLIST_FILE_MAX == 64 && BOOT_MODULE_CMDLINE_MAX == 256,
	       "efi_modlist_error_text() names these limits");

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copies n bytes; no libc in the EFI build. */
static void copy_bytes(char *dst, const char *src, size_t n)
{
	while (n--)
		*dst++ = *src++;
}

static int is_dot_name(const char *s, size_t n)
{
	return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* One non-comment line [s, e), blanks already trimmed at both ends: an entry. */
static enum efi_modlist_error parse_line(const char *s, const char *e, struct efi_modlist_entry *m)
{
	const char *word = s, *args;
	size_t file_len, name_len, args_len, len;

	while (s < e && !is_blank(*s)) {
		if (*s == '/' || *s == '\\')
			return EFI_MODLIST_BAD_FILE;
		s++;
	}
	file_len = (size_t)(s - word);
	if (is_dot_name(word, file_len) || (file_len == 1 && word[0] == '+'))
		return EFI_MODLIST_BAD_FILE;
	if (file_len >= EFI_MODLIST_FILE_MAX)
		return EFI_MODLIST_FILE_TOO_LONG;
	args = s;
	while (args < e && is_blank(*args))
		args++;
	args_len = (size_t)(e - args);

	/* NAME as boot_main() makes it from a multiboot path: the file name without ".elf". */
	name_len = file_len;
	if (name_len > 4 && word[name_len - 4] == '.' && word[name_len - 3] == 'e' &&
	    word[name_len - 2] == 'l' && word[name_len - 1] == 'f')
		name_len -= 4;
	len = name_len + (args_len ? 1 + args_len : 0);
	if (len >= BOOT_MODULE_CMDLINE_MAX)
		return EFI_MODLIST_CMDLINE_TOO_LONG;

	copy_bytes(m->file, word, file_len);
	m->file[file_len] = 0;
	copy_bytes(m->cmdline, word, name_len);
	if (args_len) {
		m->cmdline[name_len] = ' ';
		copy_bytes(m->cmdline + name_len + 1, args, args_len);
	}
	m->cmdline[len] = 0;
	return EFI_MODLIST_OK;
}

enum efi_modlist_error efi_modlist_parse(const char *text, size_t len, struct efi_modlist_entry *out,
					 size_t *count, size_t *line)
{
	const char *p = text, *end = text + len;
	size_t n = 0, lineno = 0;

	*count = 0;
	*line = 0;
	while (p < end) {
		const char *s = p, *e;
		enum efi_modlist_error err;

		lineno++;
		while (p < end && *p != '\n')
			p++;
		e = p;
		if (p < end)
			p++;	/* the '\n' */
		for (const char *q = s; q < e; q++) {
			unsigned char c = (unsigned char)*q;

			if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
				*line = lineno;
				return EFI_MODLIST_BAD_BYTE;
			}
		}
		if (e > s && e[-1] == '\r')
			e--;
		while (s < e && is_blank(*s))
			s++;
		while (e > s && is_blank(e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if (n == EFI_MODLIST_MAX) {
			*line = lineno;
			return EFI_MODLIST_TOO_MANY;
		}
		err = parse_line(s, e, &out[n]);
		if (err != EFI_MODLIST_OK) {
			*line = lineno;
			return err;
		}
		*count = ++n;
	}
	return EFI_MODLIST_OK;
}

const char *efi_modlist_error_text(enum efi_modlist_error error)
{
	switch (error) {
	case EFI_MODLIST_OK:
		return "no error";
	case EFI_MODLIST_TOO_MANY:
		return "more than 16 modules (the handover holds 16)";
	case EFI_MODLIST_FILE_TOO_LONG:
		return "file name longer than 63 bytes";
	case EFI_MODLIST_BAD_FILE:
		return "not a file name in EFI/VMM/ (a directory, '.', '..' or a bare '+')";
	case EFI_MODLIST_CMDLINE_TOO_LONG:
		return "command line 'NAME ARGS' longer than 255 bytes";
	case EFI_MODLIST_BAD_BYTE:
		return "a control byte (only tab, CR and LF may appear)";
	}
	return "unknown error";
}
