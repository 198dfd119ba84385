// The ELF layer on crafted input: errors name what is wrong, and tell foreign
// files from corrupt ones; signature trailers; kmod's .modinfo splitting.
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "elf/elf_file.h"
#include "elf/kernel_module.h"

namespace umod::elf {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(ElfFile, ForeignAndCorruptFilesAreToldApart) {
    auto text = ElfFile::parse(bytes_of("just text"));
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().code(), ENOEXEC);
    EXPECT_EQ(text.error().message(), "malformed ELF: not an ELF file (bad magic)");
    EXPECT_TRUE(text.error().detail<MalformedElf>()->foreign);

    std::string header(64, '\0');
    std::memcpy(header.data(), "\177ELF", 4);
    header[4] = 1;  // 32-bit
    EXPECT_TRUE(ElfFile::parse(bytes_of(header)).error().detail<MalformedElf>()->foreign);

    header[4] = 2;  // 64-bit, little-endian, x86-64, ET_REL, but no sections
    header[5] = 1;
    header[16] = 1;
    header[18] = 62;
    auto empty = ElfFile::parse(bytes_of(header));
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().message(), "malformed ELF: no section header table");
    EXPECT_FALSE(empty.error().detail<MalformedElf>()->foreign);

    header[60] = 3;          // e_shnum
    header[58] = 64;         // e_shentsize
    header[0x28] = '\xff';   // e_shoff far past the end
    header[0x29] = '\xff';
    EXPECT_EQ(ElfFile::parse(bytes_of(header)).error().message(),
              "malformed ELF: section header table past end of file");
    auto truncated = ElfFile::parse(bytes_of(header.substr(0, 20)));
    EXPECT_EQ(truncated.error().message(), "malformed ELF: file too short for an ELF header");
}

TEST(ModInfo, SplitsAsKmodDoes) {
    std::string section("\0\0license=GPL\0\0\0alias=fs-x\0noequals\0a=b=c\0", 42);
    auto pairs = parse_modinfo(bytes_of(section));
    ASSERT_EQ(pairs.size(), 4u);
    EXPECT_EQ(pairs[0].first, "license");
    EXPECT_EQ(pairs[0].second, "GPL");
    EXPECT_EQ(pairs[2].first, "noequals");
    EXPECT_EQ(pairs[2].second, "");
    EXPECT_EQ(pairs[3].first, "a");
    EXPECT_EQ(pairs[3].second, "b=c");
}

std::string trailer(std::uint8_t id_type, std::uint8_t hash, std::uint8_t signer_len, std::uint8_t key_len,
                    std::uint32_t sig_len) {
    std::string t(12, '\0');
    t[0] = 0;
    t[1] = static_cast<char>(hash);
    t[2] = static_cast<char>(id_type);
    t[3] = static_cast<char>(signer_len);
    t[4] = static_cast<char>(key_len);
    std::uint32_t be = __builtin_bswap32(sig_len);
    std::memcpy(t.data() + 8, &be, 4);
    return t + "~Module signature appended~\n";
}

TEST(ModuleSignature, UnsignedFileHasNone) {
    auto sig = read_module_signature(bytes_of("an unsigned module"));
    ASSERT_TRUE(sig);
    EXPECT_FALSE(sig->has_value());
}

TEST(ModuleSignature, X509TrailerFields) {
    std::string file = "ELF...body" + std::string("Signer") + std::string("\x01\x02", 2) + "SIG" +
                       trailer(1, 4, 6, 2, 3);
    auto sig = read_module_signature(bytes_of(file));
    ASSERT_TRUE(sig);
    ASSERT_TRUE(sig->has_value());
    EXPECT_EQ((*sig)->id_type, "X509");
    EXPECT_EQ((*sig)->signer, "Signer");
    EXPECT_EQ((*sig)->key_id, (std::vector<std::uint8_t>{1, 2}));
    EXPECT_EQ((*sig)->hash_algorithm, "sha256");
    EXPECT_EQ((*sig)->signature, (std::vector<std::uint8_t>{'S', 'I', 'G'}));
}

TEST(ModuleSignature, LengthPastTheFileIsRefused) {
    auto sig = read_module_signature(bytes_of("x" + trailer(2, 0, 0, 0, 1000)));
    ASSERT_FALSE(sig);
    EXPECT_EQ(sig.error().code(), EBADMSG);
}

TEST(ModuleSignature, UnparsablePkcs7KeepsTheIdAndAnUnknownHash) {
    auto sig = read_module_signature(bytes_of("body" + std::string("garbage") + trailer(2, 0, 0, 0, 7)));
    ASSERT_TRUE(sig);
    ASSERT_TRUE(sig->has_value());
    EXPECT_EQ((*sig)->id_type, "PKCS#7");
    EXPECT_EQ((*sig)->hash_algorithm, "unknown");
    EXPECT_TRUE((*sig)->signer.empty());
}

}  // namespace
}  // namespace umod::elf
