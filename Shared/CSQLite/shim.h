#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast macro Swift cannot import; binding with it makes SQLite copy the value.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }

/// Extended result codes are macros built from expressions, which Swift does not import.
static const int csqlite_constraint_unique = SQLITE_CONSTRAINT_UNIQUE;
static const int csqlite_constraint_primarykey = SQLITE_CONSTRAINT_PRIMARYKEY;
