// FALCONN anchor for `npm run bench -- knn-backends`: runs FALCONN's cross-polytope LSH on the
// exact data the benchmark measured (exported with DKNN_BENCH_EXPORT=DIR) and prints build
// seconds, query seconds, recall@k against the exact ground truth and average unique candidates.
//
//   g++ -O3 -march=native -std=c++14 -I FALCONN/src/include -I FALCONN/external/simple-serializer \
//       -I /usr/include/eigen3 bench/falconn/anchor.cc -o /tmp/falconn-anchor -pthread
//   /tmp/falconn-anchor DIR LAYER L BITS ROTATIONS PROBES SETUP_THREADS [SEED]
//
// e.g. the paper's settings on ReLU1 with one setup thread:  /tmp/falconn-anchor /tmp/kb ReLU1 200 17 2 200 1
#include <falconn/lsh_nn_table.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

using falconn::DenseVector;
typedef DenseVector<float> Point;

template <typename T>
static std::vector<T> readRaw(const std::string& path, size_t count) {
  std::vector<T> v(count);
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) { fprintf(stderr, "cannot open %s\n", path.c_str()); exit(2); }
  size_t got = fread(v.data(), sizeof(T), count, f);
  fclose(f);
  if (got != count) { fprintf(stderr, "%s: expected %zu values, found %zu\n", path.c_str(), count, got); exit(2); }
  return v;
}

static long jsonInt(const std::string& text, const char* key) {
  std::string k = std::string("\"") + key + "\":";
  size_t at = text.find(k);
  if (at == std::string::npos) { fprintf(stderr, "metadata lacks %s\n", key); exit(2); }
  return strtol(text.c_str() + at + k.size(), nullptr, 10);
}

int main(int argc, char** argv) {
  if (argc < 8) { fprintf(stderr, "usage: %s DIR LAYER L BITS ROTATIONS PROBES SETUP_THREADS [SEED]\n", argv[0]); return 2; }
  std::string base = std::string(argv[1]) + "/" + argv[2];
  int l = atoi(argv[3]), bits = atoi(argv[4]), rotations = atoi(argv[5]), probes = atoi(argv[6]), threads = atoi(argv[7]);
  unsigned long seed = argc > 8 ? strtoul(argv[8], nullptr, 10) : 5721840UL;
  std::string meta;
  { FILE* f = fopen((base + ".json").c_str(), "rb"); if (!f) { fprintf(stderr, "cannot open %s.json\n", base.c_str()); return 2; }
    char buf[4096]; size_t got = fread(buf, 1, sizeof buf, f); fclose(f); meta.assign(buf, got); }
  const long n = jsonInt(meta, "n"), d = jsonInt(meta, "dim"), nq = jsonInt(meta, "queries"), k = jsonInt(meta, "k");
  std::vector<float> x = readRaw<float>(base + ".train.f32", size_t(n) * d);
  std::vector<float> q = readRaw<float>(base + ".test.f32", size_t(nq) * d);
  std::vector<int> truth = readRaw<int>(base + ".truth.i32", size_t(nq) * k);

  falconn::LSHConstructionParameters p;
  p.dimension = d;
  p.lsh_family = falconn::LSHFamily::CrossPolytope;
  p.distance_function = falconn::DistanceFunction::EuclideanSquared;
  p.l = l;
  p.num_rotations = rotations;
  p.seed = seed;
  p.num_setup_threads = threads;
  p.storage_hash_table = falconn::StorageHashTable::BitPackedFlatHashTable;
  falconn::compute_number_of_hash_functions<Point>(bits, &p);
  printf("%s n %ld d %ld: l %d, %d bits (k %d, last_cp_dim %d), %d rotations, %d probes, %d setup threads\n", argv[2], n, d, l, bits,
         int(p.k), int(p.last_cp_dimension), rotations, probes, threads);

  falconn::PlainArrayPointSet<float> points;
  points.data = x.data();
  points.num_points = n;
  points.dimension = d;
  auto t0 = std::chrono::steady_clock::now();
  auto table = falconn::construct_table<Point, int32_t, falconn::PlainArrayPointSet<float>>(points, p);
  auto t1 = std::chrono::steady_clock::now();
  auto query = table->construct_query_object(probes);
  long hits = 0;
  std::vector<int32_t> found;
  for (long i = 0; i < nq; i++) {
    Eigen::Map<Point> qp(q.data() + size_t(i) * d, d);
    query->find_k_nearest_neighbors(qp, k, &found);
    std::set<int> want(truth.begin() + i * k, truth.begin() + (i + 1) * k);
    for (int id : found) hits += want.count(id);
  }
  auto t2 = std::chrono::steady_clock::now();
  auto stats = query->get_query_statistics();
  printf("build %.2f s query %.2f s recall %.4f avg unique candidates %.0f\n", std::chrono::duration<double>(t1 - t0).count(),
         std::chrono::duration<double>(t2 - t1).count(), double(hits) / double(nq * k), stats.average_num_unique_candidates);
  return 0;
}
