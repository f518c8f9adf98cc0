# Random numbers for the training kernel: SplitMix64 (Steele, Lea & Flood,
# "Fast splittable pseudorandom number generators", OOPSLA 2014), one 64-bit
# state per thread, plus the Walker/Vose alias draw. Platform independent.
from libc.stdint cimport uint32_t, uint64_t

cdef extern from *:
    """
    static inline uint64_t skw2v_mix64(uint64_t z) {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    static inline uint64_t skw2v_next(uint64_t *state) {
        *state += 0x9E3779B97F4A7C15ULL;
        return skw2v_mix64(*state);
    }
    """
    uint64_t skw2v_mix64(uint64_t z) noexcept nogil
    uint64_t skw2v_next(uint64_t* state) noexcept nogil


cdef inline uint64_t rng_next(uint64_t* state) noexcept nogil:
    return skw2v_next(state)


cdef inline uint64_t hash64(uint64_t key) noexcept nogil:
    # Counter-based draw: the same key always gives the same number, so any
    # thread can re-derive a decision (e.g. subsampling of a token position).
    return skw2v_mix64(key * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL)


cdef inline uint32_t bounded(uint64_t r, uint32_t n) noexcept nogil:
    # Lemire's multiply-shift: uniform in [0, n) from the high 32 bits.
    return <uint32_t> (((r >> 32) * <uint64_t> n) >> 32)


cdef inline float uniform24(uint64_t r) noexcept nogil:
    # Uniform float in [0, 1) with 24 random bits (exact in float32).
    return <float> (r >> 40) * (1.0 / 16777216.0)


cdef inline int alias_draw(uint64_t r, const uint32_t* threshold,
                           const int* alias, uint32_t n) noexcept nogil:
    # Walker/Vose: the low 32 bits pick a column, the high 32 bits accept it
    # (column kept when u < threshold) or take its alias. Full columns have
    # alias[i] == i, so their threshold never matters.
    cdef uint32_t i = <uint32_t> (((r & 0xFFFFFFFFULL) * <uint64_t> n) >> 32)
    if <uint32_t> (r >> 32) < threshold[i]:
        return <int> i
    return alias[i]
