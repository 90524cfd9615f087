// GUARDED_BY(mu): the field is read and written only with `mu` held. Checked
// by clang's -Wthread-safety where available; with g++ it documents.
#pragma once

#if defined(__clang__)
#define GUARDED_BY(x) __attribute__((guarded_by(x)))
#else
#define GUARDED_BY(x)
#endif
