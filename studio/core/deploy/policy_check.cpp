// Run an SB3 Studio TorchScript policy from C++ with libtorch: a usage example, and the program the
// studio builds to check the policy against the original.
//
//   policy_check MODEL.pt OUT.tensor IN.tensor [IN2.tensor ...]     one input file per policy input
//
// The module takes raw observations (batch first, float32; one tensor per key for Dict observations,
// in the order of policy_io.json) and returns environment actions: VecNormalize and the action
// post-processing (argmax, clipping, tanh rescaling) are inside it, exactly as in SB3's
// predict(obs, deterministic=True).
//
// .tensor files: "SB3T", uint32 dtype (0 float32, 1 int64), uint32 rank, int64 dims[rank], the values
// (little-endian, row-major).
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

torch::Tensor read_tensor(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4];
  uint32_t dtype = 0, rank = 0;
  in.read(magic, 4);
  in.read(reinterpret_cast<char*>(&dtype), 4);
  in.read(reinterpret_cast<char*>(&rank), 4);
  if (!in || std::memcmp(magic, "SB3T", 4) != 0 || dtype != 0 || rank > 8) {
    throw std::runtime_error(path + ": not a float32 .tensor file");
  }
  std::vector<int64_t> dims(rank);
  in.read(reinterpret_cast<char*>(dims.data()), static_cast<std::streamsize>(rank * sizeof(int64_t)));
  torch::Tensor tensor = torch::empty(dims, torch::kFloat32);
  in.read(reinterpret_cast<char*>(tensor.data_ptr<float>()), static_cast<std::streamsize>(tensor.nbytes()));
  if (!in) throw std::runtime_error(path + ": truncated");
  return tensor;
}

void write_tensor(const std::string& path, const torch::Tensor& value) {
  torch::Tensor tensor = value.contiguous();
  const uint32_t dtype = tensor.scalar_type() == torch::kInt64 ? 1 : 0;
  if (dtype == 0) tensor = tensor.to(torch::kFloat32);
  const uint32_t rank = static_cast<uint32_t>(tensor.dim());
  std::ofstream out(path, std::ios::binary);
  out.write("SB3T", 4);
  out.write(reinterpret_cast<const char*>(&dtype), 4);
  out.write(reinterpret_cast<const char*>(&rank), 4);
  for (int64_t size : tensor.sizes()) out.write(reinterpret_cast<const char*>(&size), sizeof(size));
  out.write(static_cast<const char*>(tensor.data_ptr()), static_cast<std::streamsize>(tensor.nbytes()));
  if (!out) throw std::runtime_error(path + ": cannot write");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: " << argv[0] << " MODEL.pt OUT.tensor IN.tensor [IN2.tensor ...]\n";
    return 2;
  }
  try {
    at::set_num_threads(1);                      // one observation at a time: threads only add latency
    c10::InferenceMode guard;                    // no autograd bookkeeping
    torch::jit::script::Module policy = torch::jit::load(argv[1]);
    policy.eval();

    std::vector<torch::jit::IValue> inputs;
    for (int i = 3; i < argc; ++i) inputs.emplace_back(read_tensor(argv[i]));

    // Batch in, batch out: one call for every observation of the file.
    torch::Tensor actions = policy.forward(inputs).toTensor();
    write_tensor(argv[2], actions);

    // Latency of a single observation, as a control loop would call it.
    std::vector<torch::jit::IValue> one;
    for (const auto& input : inputs) one.emplace_back(input.toTensor().slice(0, 0, 1).contiguous());
    for (int i = 0; i < 50; ++i) policy.forward(one);
    const int calls = 1000;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) policy.forward(one);
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / calls;
    std::cout << "{\"observations\": " << actions.size(0) << ", \"mean_latency_us\": " << us << "}" << std::endl;
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
