// hnswlib 0.6.2 (header-only, Debian's libhnswlib-dev) behind the C interface of chnsw.h; no C++
// exception crosses the boundary.
#include "chnsw.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <memory>
#include <new>
#include <vector>

struct chnsw_index {
    hnswlib::InnerProductSpace space;
    hnswlib::HierarchicalNSW<float> graph;

    chnsw_index(size_t dimensions, size_t capacity, size_t m, size_t ef_construction, size_t seed)
        : space(dimensions), graph(&space, capacity, m, ef_construction, seed) {}
};

extern "C" chnsw_index *chnsw_create(size_t dimensions, size_t capacity, size_t m, size_t ef_construction,
                                     size_t seed) {
    try {
        return new chnsw_index(dimensions, std::max<size_t>(capacity, 16), m, ef_construction, seed);
    } catch (...) {
        return nullptr;
    }
}

extern "C" void chnsw_free(chnsw_index *index) { delete index; }

extern "C" int chnsw_add(chnsw_index *index, const float *vector, uint64_t label) {
    try {
        auto &graph = index->graph;
        if (graph.cur_element_count >= graph.max_elements_) {
            graph.resizeIndex(graph.max_elements_ * 2);
        }
        graph.addPoint(vector, static_cast<hnswlib::labeltype>(label));
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" int chnsw_mark_deleted(chnsw_index *index, uint64_t label) {
    try {
        index->graph.markDelete(static_cast<hnswlib::labeltype>(label));
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" size_t chnsw_search(chnsw_index *index, const float *query, size_t k, size_t ef, uint64_t *labels,
                               float *distances) {
    try {
        index->graph.setEf(std::max(ef, k));
        auto result = index->graph.searchKnn(query, k);
        size_t count = result.size();
        // The queue pops the farthest first.
        for (size_t position = count; position > 0; --position) {
            labels[position - 1] = static_cast<uint64_t>(result.top().second);
            distances[position - 1] = result.top().first;
            result.pop();
        }
        return count;
    } catch (...) {
        return 0;
    }
}

extern "C" size_t chnsw_count(const chnsw_index *index) { return index->graph.cur_element_count; }

extern "C" size_t chnsw_exact_top_k(const float *query, const float *matrix, size_t count, size_t dimensions,
                                    const uint8_t *allowed, size_t k, uint64_t *rows, float *scores) {
    if (k == 0 || count == 0) return 0;
    // hnswlib's SIMD inner product (picked for the dimensions at run time); it returns 1 - dot.
    hnswlib::InnerProductSpace space(dimensions);
    auto distance = space.get_dist_func();
    void *parameters = space.get_dist_func_param();
    // A min-heap of the best k so far: its top is the weakest kept.
    std::vector<std::pair<float, uint64_t>> heap;
    heap.reserve(k + 1);
    auto weaker = [](const std::pair<float, uint64_t> &a, const std::pair<float, uint64_t> &b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    for (size_t row = 0; row < count; ++row) {
        if (allowed != nullptr && allowed[row] == 0) continue;
        float score = 1.0f - distance(query, matrix + row * dimensions, parameters);
        if (heap.size() < k) {
            heap.emplace_back(score, row);
            std::push_heap(heap.begin(), heap.end(), weaker);
        } else if (score > heap.front().first) {
            std::pop_heap(heap.begin(), heap.end(), weaker);
            heap.back() = {score, row};
            std::push_heap(heap.begin(), heap.end(), weaker);
        }
    }
    std::sort_heap(heap.begin(), heap.end(), weaker);
    for (size_t position = 0; position < heap.size(); ++position) {
        scores[position] = heap[position].first;
        rows[position] = heap[position].second;
    }
    return heap.size();
}

// The lexicon: postings per term hold (slot, frequency); a slot is a chunk's dense number, so a
// search accumulates scores in a flat array. Removed chunks leave dead postings behind, skipped by
// searches and swept out once they are a quarter of all postings.
struct chnsw_lexicon {
    struct Posting {
        uint32_t slot;
        float frequency;
    };
    std::unordered_map<uint32_t, std::vector<Posting>> postings;
    std::unordered_map<uint32_t, uint32_t> documentFrequency;
    std::unordered_map<uint64_t, uint32_t> slotOfLabel;
    std::vector<uint64_t> labelOfSlot;
    std::vector<float> lengthOfSlot;
    std::vector<uint8_t> liveSlot;
    std::vector<std::vector<uint32_t>> termsOfSlot;
    std::vector<float> accumulator;
    size_t livePostings = 0;
    size_t deadPostings = 0;
    size_t liveChunks = 0;
    double totalLength = 0;

    void remove(uint64_t label) {
        auto found = slotOfLabel.find(label);
        if (found == slotOfLabel.end()) return;
        uint32_t slot = found->second;
        slotOfLabel.erase(found);
        liveSlot[slot] = 0;
        for (uint32_t term : termsOfSlot[slot]) {
            auto frequency = documentFrequency.find(term);
            if (frequency != documentFrequency.end() && --frequency->second == 0) documentFrequency.erase(frequency);
        }
        livePostings -= termsOfSlot[slot].size();
        deadPostings += termsOfSlot[slot].size();
        termsOfSlot[slot].clear();
        termsOfSlot[slot].shrink_to_fit();
        liveChunks -= 1;
        totalLength -= lengthOfSlot[slot];
        if (deadPostings > 1024 && deadPostings * 3 > livePostings) sweep();
    }

    void sweep() {
        for (auto entry = postings.begin(); entry != postings.end();) {
            auto &list = entry->second;
            list.erase(std::remove_if(list.begin(), list.end(), [&](const Posting &p) { return !liveSlot[p.slot]; }),
                       list.end());
            if (list.empty()) {
                entry = postings.erase(entry);
            } else {
                ++entry;
            }
        }
        deadPostings = 0;
    }
};

extern "C" chnsw_lexicon *chnsw_lexicon_create(void) {
    try {
        return new chnsw_lexicon();
    } catch (...) {
        return nullptr;
    }
}

extern "C" void chnsw_lexicon_free(chnsw_lexicon *lexicon) { delete lexicon; }

extern "C" int chnsw_lexicon_add(chnsw_lexicon *lexicon, uint64_t label, const uint32_t *terms,
                                 const float *frequencies, size_t count, float length) {
    try {
        lexicon->remove(label);
        uint32_t slot = static_cast<uint32_t>(lexicon->labelOfSlot.size());
        lexicon->labelOfSlot.push_back(label);
        lexicon->lengthOfSlot.push_back(length);
        lexicon->liveSlot.push_back(1);
        lexicon->termsOfSlot.emplace_back(terms, terms + count);
        lexicon->slotOfLabel[label] = slot;
        for (size_t index = 0; index < count; ++index) {
            lexicon->postings[terms[index]].push_back({slot, frequencies[index]});
            lexicon->documentFrequency[terms[index]] += 1;
        }
        lexicon->livePostings += count;
        lexicon->liveChunks += 1;
        lexicon->totalLength += length;
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" void chnsw_lexicon_remove(chnsw_lexicon *lexicon, uint64_t label) {
    try {
        lexicon->remove(label);
    } catch (...) {
    }
}

extern "C" size_t chnsw_lexicon_search(chnsw_lexicon *lexicon, const uint32_t *terms, size_t count, size_t k,
                                       uint64_t *labels, float *scores) {
    try {
        if (k == 0 || lexicon->liveChunks == 0) return 0;
        const float k1 = 1.2f, b = 0.75f;
        const float chunks = static_cast<float>(lexicon->liveChunks);
        const float averageLength = static_cast<float>(lexicon->totalLength / lexicon->liveChunks);
        auto &accumulator = lexicon->accumulator;
        accumulator.assign(lexicon->labelOfSlot.size(), 0.0f);
        std::vector<uint32_t> touched;
        std::vector<uint32_t> seenTerms;
        for (size_t index = 0; index < count; ++index) {
            uint32_t term = terms[index];
            if (std::find(seenTerms.begin(), seenTerms.end(), term) != seenTerms.end()) continue;
            seenTerms.push_back(term);
            auto list = lexicon->postings.find(term);
            auto frequency = lexicon->documentFrequency.find(term);
            if (list == lexicon->postings.end() || frequency == lexicon->documentFrequency.end()) continue;
            float df = static_cast<float>(frequency->second);
            float idf = std::log(1.0f + (chunks - df + 0.5f) / (df + 0.5f));
            for (const auto &posting : list->second) {
                if (!lexicon->liveSlot[posting.slot]) continue;
                float norm = k1 * (1.0f - b + b * lexicon->lengthOfSlot[posting.slot] / averageLength);
                float part = idf * posting.frequency * (k1 + 1.0f) / (posting.frequency + norm);
                if (accumulator[posting.slot] == 0.0f) touched.push_back(posting.slot);
                accumulator[posting.slot] += part;
            }
        }
        auto better = [&](uint32_t a, uint32_t b) {
            return accumulator[a] > accumulator[b] ||
                   (accumulator[a] == accumulator[b] && lexicon->labelOfSlot[a] < lexicon->labelOfSlot[b]);
        };
        size_t found = std::min(k, touched.size());
        std::partial_sort(touched.begin(), touched.begin() + found, touched.end(), better);
        for (size_t position = 0; position < found; ++position) {
            labels[position] = lexicon->labelOfSlot[touched[position]];
            scores[position] = accumulator[touched[position]];
        }
        return found;
    } catch (...) {
        return 0;
    }
}
