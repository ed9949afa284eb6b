#include "signals/signal_codec.h"

namespace leadenrich::internal {

const std::array<const SignalCodec*, kSignalCount>& signal_codecs() {
#define LEADENRICH_SIGNAL_CODEC_ENTRY(e, T, n) &n##_codec(),
  static const std::array<const SignalCodec*, kSignalCount> kCodecs = {LEADENRICH_SIGNAL_TABLE(LEADENRICH_SIGNAL_CODEC_ENTRY)};
#undef LEADENRICH_SIGNAL_CODEC_ENTRY
  return kCodecs;
}

}  // namespace leadenrich::internal
