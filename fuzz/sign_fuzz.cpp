// libFuzzer target for module signatures: the trailer's parse, the kernel's
// checks and the PKCS#7 verification (against a keyring of one certificate,
// so a message whose signer matches reaches CMS_verify), and the kernel-image
// readers (bzImage header, certificate scan). Bad input must only ever give
// an outcome or an error value.
#include <cstddef>
#include <cstdint>
#include <span>

#include "elf/kernel_module.h"
#include "elf/signature_trailer.h"
#include "sign/kernel_image.h"
#include "sign/keyring.h"
#include "sign/verify.h"

namespace {

// The test key's certificate (tests/sign/keys/rsa.der), built in by run-brief.sh.
const umod::sign::Keyring& keyring() {
    static const umod::sign::Keyring ring = [] {
        umod::sign::Keyring r;
        if (const char* path = UMOD_FUZZ_CERT; path[0] != '\0')
            if (auto loaded = umod::sign::Keyring::load(path)) r = std::move(*loaded);
        return r;
    }();
    return ring;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    if (auto trailer = umod::elf::parse_signature_trailer(bytes); trailer && *trailer) {
        const auto& t = **trailer;
        // Everything it points at is inside the input.
        if (t.module_size + t.extent() != size) __builtin_trap();
        if (t.signature.data() + t.signature.size() > bytes.data() + size) __builtin_trap();
    }
    (void)umod::elf::read_module_signature(bytes);
    (void)umod::sign::verify_module_signature(bytes, keyring());
    (void)umod::sign::certificates_in_kernel(bytes);
    if (size < 65536) (void)umod::sign::kernel_image_payload(bytes);
    return 0;
}
