#include "chnsw.h"
