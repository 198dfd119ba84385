// The ELF layer on crafted input: errors name what is wrong, and tell foreign
// files from corrupt ones; signature trailers; kmod's .modinfo splitting.
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "elf/elf_file.h"
#include "elf/kernel_module.h"
#include "elf/module_file.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

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

// A relocatable image of either class and byte order: sections null,
// .shstrtab, .modinfo, .strtab, .symtab (symbols: null, "exported" = 0x1234
// size 8 GLOBAL FUNC in .modinfo's index, "imported" UNDEF WEAK).
std::string tiny_elf(bool is64, bool big, std::uint16_t machine,
                     const std::string& modinfo = std::string("name=tiny\0license=GPL\0", 22),
                     std::uint64_t modinfo_flags = 0) {
    std::string out;
    auto put = [&](std::uint64_t v, int width) {
        for (int i = 0; i < width; ++i) out.push_back(static_cast<char>((v >> (8 * (big ? width - 1 - i : i))) & 0xff));
    };
    auto word = [&](std::uint64_t v) { put(v, is64 ? 8 : 4); };
    const std::string shstrtab("\0.shstrtab\0.modinfo\0.strtab\0.symtab\0", 37);
    const std::string strtab("\0exported\0imported\0", 19);
    const std::size_t ehdr = is64 ? 64 : 52, shdr = is64 ? 64 : 40, sym = is64 ? 24 : 16;
    // Layout: header, then the four sections' bytes, then the section table.
    std::size_t off_shstr = ehdr, off_mod = off_shstr + shstrtab.size(), off_str = off_mod + modinfo.size();
    std::size_t off_sym = off_str + strtab.size(), off_sh = off_sym + 3 * sym;
    out += "\177ELF";
    out.push_back(is64 ? 2 : 1);
    out.push_back(big ? 2 : 1);
    out.push_back(1);
    out.resize(16, '\0');
    put(1, 2);        // ET_REL
    put(machine, 2);  // e_machine
    put(1, 4);        // e_version
    word(0);          // e_entry
    word(0);          // e_phoff
    word(off_sh);     // e_shoff
    put(0, 4);        // e_flags
    put(ehdr, 2);
    put(0, 2);        // e_phentsize
    put(0, 2);        // e_phnum
    put(shdr, 2);
    put(5, 2);        // e_shnum
    put(1, 2);        // e_shstrndx
    out += shstrtab + modinfo + strtab;
    auto symbol = [&](std::uint32_t name, std::uint64_t value, std::uint64_t size, std::uint8_t info, std::uint16_t shndx) {
        put(name, 4);
        if (is64) {
            out.push_back(static_cast<char>(info));
            out.push_back(0);
            put(shndx, 2);
            word(value);
            word(size);
        } else {
            word(value);
            word(size);
            out.push_back(static_cast<char>(info));
            out.push_back(0);
            put(shndx, 2);
        }
    };
    symbol(0, 0, 0, 0, 0);
    symbol(1, 0x1234, 8, (1 << 4) | 2, 2);  // GLOBAL FUNC in section 2
    symbol(10, 0, 0, (2 << 4) | 0, 0);      // WEAK NOTYPE UNDEF
    auto section = [&](std::uint32_t name, std::uint32_t type, std::uint64_t offset, std::uint64_t size,
                       std::uint32_t link, std::uint64_t entsize, std::uint64_t flags = 0) {
        put(name, 4);
        put(type, 4);
        word(flags);
        word(0);  // addr
        word(offset);
        word(size);
        put(link, 4);
        put(0, 4);  // info
        word(1);    // addralign
        word(entsize);
    };
    section(0, 0, 0, 0, 0, 0);
    section(1, 3, off_shstr, shstrtab.size(), 0, 0);   // .shstrtab
    section(11, 1, off_mod, modinfo.size(), 0, 0, modinfo_flags);  // .modinfo
    section(20, 3, off_str, strtab.size(), 0, 0);      // .strtab
    section(28, 2, off_sym, 3 * sym, 3, sym);          // .symtab
    return out;
}

// One reader for both classes and both byte orders: what it reads is the
// same whichever the layout; only Machines::Any takes a non-host image.
TEST(ElfFile, ReadsBothClassesAndByteOrders) {
    struct Case { bool is64, big; std::uint16_t machine; };
    for (Case c : {Case{false, false, 3}, Case{true, true, 22}, Case{false, true, 20}, Case{true, false, 183},
                   Case{true, false, 62}}) {
        std::string image = tiny_elf(c.is64, c.big, c.machine);
        SCOPED_TRACE(testing::Message() << "64=" << c.is64 << " big=" << c.big << " machine=" << c.machine);
        auto host = ElfFile::parse(bytes_of(image));
        bool native = c.is64 && !c.big && c.machine == 62;
        EXPECT_EQ(static_cast<bool>(host), native);
        if (!host) {
            EXPECT_TRUE(host.error().detail<MalformedElf>()->foreign) << host.error().message();
        }
        auto file = ElfFile::parse(bytes_of(image), Machines::Any);
        ASSERT_TRUE(file) << file.error().message();
        EXPECT_EQ(file->elf_class(), c.is64 ? ElfClass::Elf64 : ElfClass::Elf32);
        EXPECT_EQ(file->byte_order(), c.big ? ByteOrder::Big : ByteOrder::Little);
        EXPECT_EQ(file->machine(), c.machine);
        EXPECT_EQ(file->word_size(), c.is64 ? 8u : 4u);
        const Section* modinfo = file->section(".modinfo");
        ASSERT_NE(modinfo, nullptr);
        auto pairs = parse_modinfo(*file->contents(*modinfo));
        ASSERT_EQ(pairs.size(), 2u);
        EXPECT_EQ(pairs[0].second, "tiny");
        const Section* symtab = file->section(".symtab");
        ASSERT_NE(symtab, nullptr);
        auto symbols = file->symbols(*symtab);
        ASSERT_TRUE(symbols) << symbols.error().message();
        ASSERT_EQ(symbols->size(), 3u);
        EXPECT_EQ((*symbols)[1].name, "exported");
        EXPECT_EQ((*symbols)[1].value, 0x1234u);
        EXPECT_EQ((*symbols)[1].size, 8u);
        EXPECT_EQ((*symbols)[1].bind, 1);
        EXPECT_EQ((*symbols)[1].type, 2);
        EXPECT_EQ((*symbols)[1].shndx, 2);
        EXPECT_EQ((*symbols)[2].name, "imported");
        EXPECT_EQ((*symbols)[2].bind, 2);
        EXPECT_EQ((*symbols)[2].shndx, 0);
        // Integers of the image in its order: "name" read as a 32-bit word.
        std::uint32_t name_word = file->read32(*file->contents(*modinfo), 0);
        EXPECT_EQ(name_word, c.big ? 0x6e616d65u : 0x656d616eu);
        // Every truncation is an error, never a crash.
        for (std::size_t n = 0; n < image.size(); ++n) (void)ElfFile::parse(bytes_of(image.substr(0, n)), Machines::Any);
    }
}

// libkmod's strip for forced loads on kernels without finit_module, in the
// image's own class and byte order: a section loses SHF_ALLOC (its other
// flags kept), the vermagic string becomes NULs.
TEST(KernelModule, StripsAsLibkmodDoes) {
    const std::string info("name=tiny\0vermagic=6.1.0 SMP mod_unload\0license=GPL\0", 50);
    for (bool is64 : {false, true})
        for (bool big : {false, true}) {
            SCOPED_TRACE(testing::Message() << "64=" << is64 << " big=" << big);
            std::string text = tiny_elf(is64, big, 22, info, 0x2 | 0x10);  // SHF_ALLOC | SHF_MERGE
            std::vector<std::byte> image(reinterpret_cast<const std::byte*>(text.data()),
                                         reinterpret_cast<const std::byte*>(text.data()) + text.size());
            ASSERT_TRUE(strip_section_alloc(image, ".modinfo"));
            ASSERT_TRUE(strip_vermagic(image));
            auto file = ElfFile::parse(image, Machines::Any);
            ASSERT_TRUE(file);
            const Section* modinfo = file->section(".modinfo");
            ASSERT_NE(modinfo, nullptr);
            EXPECT_EQ(modinfo->flags, 0x10u);
            auto pairs = parse_modinfo(*file->contents(*modinfo));
            ASSERT_EQ(pairs.size(), 2u);
            EXPECT_EQ(pairs[0].first, "name");
            EXPECT_EQ(pairs[1].first, "license");
            EXPECT_EQ(strip_vermagic(image).error().code(), ENOENT);  // nothing left to strip
            EXPECT_EQ(strip_section_alloc(image, "__versions").error().code(), ENOENT);
        }
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


// A file on disk for the part reader; removed with its directory.
struct TempFile {
    std::string dir, path;
    explicit TempFile(const std::vector<std::byte>& bytes, const char* name = "m.ko") {
        char templ[] = "/tmp/umod-elf-test-XXXXXX";
        dir = mkdtemp(templ);
        path = dir + "/" + name;
        int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
        EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
        ::close(fd);
    }
    ~TempFile() {
        ::unlink(path.c_str());
        ::rmdir(dir.c_str());
    }
};

// A section-name table whose offset plus size wraps around: the part reader
// must not read names from it (it read far outside its buffer before), and
// the parser then refuses the file.
TEST(ModuleFile, HostileNameTableIsNotReadOutsideTheFile) {
    std::vector<std::byte> image(64 + 3 * 64);
    Elf64_Ehdr h{};
    std::memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS64;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_ident[EI_VERSION] = EV_CURRENT;
    h.e_type = ET_REL;
    h.e_machine = EM_X86_64;
    h.e_version = EV_CURRENT;
    h.e_ehsize = sizeof h;
    h.e_shoff = 64;
    h.e_shentsize = sizeof(Elf64_Shdr);
    h.e_shnum = 3;
    h.e_shstrndx = 1;
    std::memcpy(image.data(), &h, sizeof h);
    Elf64_Shdr names{};
    names.sh_type = SHT_STRTAB;
    names.sh_offset = std::uint64_t{0} - (std::uint64_t{1} << 40);  // + sh_size wraps to 16: a name
    names.sh_size = (std::uint64_t{1} << 40) + 16;                  // 1 TiB before the buffer
    Elf64_Shdr other{};
    other.sh_name = 8;
    other.sh_type = SHT_PROGBITS;
    std::memcpy(image.data() + 64 + sizeof(Elf64_Shdr), &names, sizeof names);
    std::memcpy(image.data() + 64 + 2 * sizeof(Elf64_Shdr), &other, sizeof other);
    TempFile file(image);
    ModuleFileBuffer buffer;
    auto bytes = read_module_file(file.path, {{".modinfo", ".symtab"}, 0, false}, buffer);
    ASSERT_TRUE(bytes) << bytes.error().message();
    EXPECT_EQ(bytes->size(), image.size());
    EXPECT_FALSE(ElfFile::parse(*bytes, Machines::Any));
}

// libkmod reads xz's 6-byte magic first: a shorter module file is EINVAL,
// read by path or relative to its directory.
TEST(ModuleFile, FileShorterThanAnyMagicIsInvalid) {
    TempFile file(std::vector<std::byte>(5, std::byte{'a'}), "tiny.ko");
    ModuleFileBuffer buffer;
    auto by_path = read_module_file(file.path, {{".modinfo"}, 0, false}, buffer);
    ASSERT_FALSE(by_path);
    EXPECT_EQ(by_path.error().code(), EINVAL);
    int dir = ::open(file.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(dir, 0);
    auto at = read_module_file_at(dir, "tiny.ko", file.path, {{}, 0, true}, buffer);
    ::close(dir);
    ASSERT_FALSE(at);
    EXPECT_EQ(at.error().code(), EINVAL);
}

}  // namespace
}  // namespace umod::elf
