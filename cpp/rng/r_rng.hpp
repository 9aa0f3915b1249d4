// R's default random numbers (RNG.c / random.c of R >= 3.6): the Mersenne-Twister generator
// MT_genrand with R's fixup to (0, 1) (unif_rand) and the "Rejection" index sampler
// R_unif_index. The state is R's .Random.seed for that kind: 624 words and the position mti.
#pragma once
#include <array>
#include <cstdint>

namespace rmodels {

struct MersenneState {
  std::array<std::uint32_t, 624> mt;
  int mti = 624;  // 624: the next draw regenerates the block
};

// The next tempered 32-bit word of MT19937 (R's MT_genrand before scaling by 2^-32).
std::uint32_t mt_next_word(MersenneState& s);

// R's unif_rand(): fixup(word * 2^-32), never 0 or 1.
double unif_rand(MersenneState& s);

// R's R_unif_index(dn) under sample.kind = "Rejection": rbits(ceil(log2 dn)) until < dn.
double unif_index(MersenneState& s, double dn);

// size successive R_unif_index(dn) values (0-based) into out.
void unif_index_fill(MersenneState& s, double dn, std::int64_t size, std::int64_t* out);

// nrow * ncol successive R_unif_index(dn) values (0-based, dn < 2^31) laid out as R's
// matrix(..., nrow, ncol) fills them, by column, in row-major storage: draw i goes to
// out[(i % nrow) * ncol + i / nrow] (boot's ordinary.array: nrow = R replicates of ncol = n
// indices, so replicate r's indices are the contiguous row r).
void unif_index_by_column(MersenneState& s, double dn, std::int64_t nrow, std::int64_t ncol,
                          std::int32_t* out);

// R's do_sample without replacement (n <= INT_MAX; the caller picks this or the hash variant as
// sample.int does): x = 0..n-1; size times j = R_unif_index(left), take x[j] + 1 (1-based), and
// x[j] = x[--left].
void sample_noreplace(MersenneState& s, std::int64_t n, std::int64_t size, std::int64_t* out);

}  // namespace rmodels
