/* A C interface to hnswlib's HierarchicalNSW over inner product, for the KB search service. */
#ifndef CHNSW_H
#define CHNSW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An approximate nearest-neighbour index of float vectors, labelled by 64-bit ids. */
typedef struct chnsw_index chnsw_index;

/* A new empty index of `dimensions`-long vectors; NULL when it cannot be allocated. */
chnsw_index *chnsw_create(size_t dimensions, size_t capacity, size_t m, size_t ef_construction, size_t seed);

/* Frees the index. */
void chnsw_free(chnsw_index *index);

/* Adds (or replaces) the vector labelled `label`, growing the index as needed; 0 on success. */
int chnsw_add(chnsw_index *index, const float *vector, uint64_t label);

/* Hides `label` from searches; 0 on success, -1 when it is not in the index. */
int chnsw_mark_deleted(chnsw_index *index, uint64_t label);

/* The nearest `k` vectors to `query` (exploring `ef` candidates), best first: their labels and
   inner-product distances (1 - dot product). Returns how many were written (at most k). */
size_t chnsw_search(chnsw_index *index, const float *query, size_t k, size_t ef, uint64_t *labels,
                    float *distances);

/* Vectors added, including those marked deleted. */
size_t chnsw_count(const chnsw_index *index);

/* The exact scan: the `k` rows of `matrix` (`count` rows of `dimensions` floats) with the largest
   dot product with `query`, skipping row i when `allowed` is non-NULL and allowed[i] is 0. Writes
   their row numbers and dot products, best first; returns how many were written (at most k). */
size_t chnsw_exact_top_k(const float *query, const float *matrix, size_t count, size_t dimensions,
                         const uint8_t *allowed, size_t k, uint64_t *rows, float *scores);

/* An in-memory BM25 inverted index of chunks (labelled by 64-bit ids) over integer term ids: the
   lexical index of large knowledge bases. */
typedef struct chnsw_lexicon chnsw_lexicon;

/* A new empty lexicon; NULL when it cannot be allocated. */
chnsw_lexicon *chnsw_lexicon_create(void);

/* Frees the lexicon. */
void chnsw_lexicon_free(chnsw_lexicon *lexicon);

/* Adds chunk `label` holding `count` distinct terms with their (weighted) frequencies; `length` is
   its length in terms. A label already present is replaced. 0 on success. */
int chnsw_lexicon_add(chnsw_lexicon *lexicon, uint64_t label, const uint32_t *terms, const float *frequencies,
                      size_t count, float length);

/* Removes chunk `label`, if present. */
void chnsw_lexicon_remove(chnsw_lexicon *lexicon, uint64_t label);

/* The `k` chunks with the highest BM25 score for the `count` query terms, best first: their labels
   and scores. Returns how many were written (chunks holding none of the terms are not). */
size_t chnsw_lexicon_search(chnsw_lexicon *lexicon, const uint32_t *terms, size_t count, size_t k,
                            uint64_t *labels, float *scores);

#ifdef __cplusplus
}
#endif

#endif
