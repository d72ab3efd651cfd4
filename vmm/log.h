/* Leveled logging on the VMM console (boot option log=debug|info|warn). */
#ifndef VMM_LOG_H
#define VMM_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,	/* always printed */
};

extern enum log_level log_threshold;

void log_at(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vat(enum log_level level, const char *fmt, va_list ap);

#define log_debug(...)	log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_at(LOG_ERROR, __VA_ARGS__)

#endif
