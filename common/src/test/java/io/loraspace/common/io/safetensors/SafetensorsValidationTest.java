package io.loraspace.common.io.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.Dtype;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every malformed file fails on open with a message naming the file and what is wrong. */
class SafetensorsValidationTest {
  @TempDir Path dir;

  /** A file with the given header text (padded to 8) and {@code dataBytes} zero bytes of data. */
  private Path file(String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    int padded = (h.length + 7) / 8 * 8;
    byte[] hp = Arrays.copyOf(h, padded);
    Arrays.fill(hp, h.length, padded, (byte) ' ');
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hp.length).array());
    out.write(hp);
    out.write(new byte[dataBytes]);
    Path p = dir.resolve("bad.safetensors");
    Files.write(p, out.toByteArray());
    return p;
  }

  private static String t(String name, String dtype, String shape, long b, long e) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + b + "," + e
        + "]}";
  }

  @Test
  void validFileOpens() throws IOException {
    Path p = file("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F16", "[2,2]", 8, 16) + "}", 16);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertThat(f.tensorNames()).containsExactly("a", "b");
    }
  }

  @Test
  void fileShorterThanTheLengthFieldFails() throws IOException {
    Path p = dir.resolve("tiny.safetensors");
    Files.write(p, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": file has 3 bytes, too short for the 8-byte header length");
  }

  @Test
  void headerLengthPastTheEndOfTheFileFails() throws IOException {
    Path p = dir.resolve("h.safetensors");
    byte[] b = new byte[8 + 10];
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
    Files.write(p, b);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": header length 1000 runs past the end of the file (18 bytes)");
  }

  @Test
  void absurdHeaderLengthFails() throws IOException {
    Path p = dir.resolve("h.safetensors");
    byte[] b = new byte[16];
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(-5);
    Files.write(p, b);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": header length 18446744073709551611 outside (0, 100000000]");
  }

  @Test
  void truncatedFileFails() throws IOException {
    Path p = file("{" + t("a", "F32", "[4]", 0, 16) + "}", 10);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": tensors end at data offset 16 but the data section has only 10 bytes (truncated file)");
  }

  @Test
  void trailingBytesFail() throws IOException {
    Path p = file("{" + t("a", "F32", "[4]", 0, 16) + "}", 20);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": tensors end at data offset 16 but the data section has 20 bytes (trailing bytes after "
            + "the last tensor)");
  }

  @Test
  void invalidJsonFails() throws IOException {
    Path p = file("{\"a\": {", 0);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessageStartingWith(p + ": header is not valid JSON: ");
  }

  @Test
  void overlappingOffsetsFail() throws IOException {
    Path p = file("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[2]", 4, 12) + "}", 12);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": tensor 'b' offsets [4, 12) overlap the previous tensor, which ends at 8");
  }

  @Test
  void gapBetweenTensorsFails() throws IOException {
    Path p = file("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[2]", 12, 20) + "}", 20);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": tensor 'b' starts at 12, leaving a gap after offset 8 (offsets must be contiguous from 0)");
  }

  @Test
  void dataNotStartingAtZeroFails() throws IOException {
    Path p = file("{" + t("a", "F32", "[2]", 4, 12) + "}", 12);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": tensor 'a' starts at 4, leaving a gap after offset 0 (offsets must be contiguous from 0)");
  }

  @Test
  void unknownDtypeFails() throws IOException {
    Path p = file("{" + t("a", "F8_E4M3", "[2]", 0, 2) + "}", 2);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": tensor 'a': unknown dtype 'F8_E4M3' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, "
            + "U8, BOOL)");
  }

  @Test
  void duplicateTensorNameFails() throws IOException {
    Path p = file("{" + t("a", "F32", "[1]", 0, 4) + "," + t("a", "F32", "[1]", 4, 8) + "}", 8);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessageStartingWith(p + ": duplicate tensor name in header: Duplicate field 'a'");
  }

  @Test
  void shapeDisagreeingWithByteLengthFails() throws IOException {
    Path p = file("{" + t("x.weight", "F32", "[4,3]", 0, 40) + "}", 40);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": tensor 'x.weight' has dtype F32 and shape [4,3] = 48 bytes, but offsets [0, 40) span 40 "
            + "bytes");
  }

  @Test
  void negativeShapeFails() throws IOException {
    Path p = file("{" + t("a", "F32", "[-1]", 0, 0) + "}", 0);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": tensor 'a' has a bad shape [-1]");
  }

  @Test
  void nonStringMetadataFails() throws IOException {
    Path p = file("{\"__metadata__\":{\"n\":3}," + t("a", "F32", "[1]", 0, 4) + "}", 4);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": __metadata__ value of 'n' is not a string: 3");
  }

  @Test
  void missingTensorLookupNamesFileAndTensor() throws IOException {
    Path p = file("{" + t("a", "F32", "[1]", 0, 4) + "}", 4);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertThatThrownBy(() -> f.info("b")).isInstanceOf(FormatException.class)
          .hasMessage(p + ": no tensor 'b'");
    }
  }

  /**
   * A file over 4 GiB whose second tensor lies beyond 2^32: a sparse file, so it costs no disk and no heap.
   * Offsets and maps must be long throughout.
   */
  @Test
  void tensorBeyondFourGibibytesReadsCorrectly() throws IOException {
    long big = (1L << 32) + 4096; // bytes of the first (zero) tensor
    String header = "{" + t("zeros", "U8", "[" + big + "]", 0, big) + "," + t("tail", "F64", "[3]", big, big + 24)
        + "}";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    int padded = (h.length + 7) / 8 * 8;
    byte[] hp = Arrays.copyOf(h, padded);
    Arrays.fill(hp, h.length, padded, (byte) ' ');
    Path p = dir.resolve("sparse.safetensors");
    try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
      raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hp.length).array());
      raf.write(hp);
      long tailAt = 8 + hp.length + big;
      raf.seek(tailAt);
      ByteBuffer tail = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
      tail.putDouble(1.25).putDouble(-2.5).putDouble(1e300);
      raf.write(tail.array());
    }
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertThat(f.info("zeros").byteLength()).isEqualTo(big);
      assertThat(f.info("tail").begin()).isGreaterThan(1L << 32);
      assertThat(f.readDoubles("tail")).containsExactly(1.25, -2.5, 1e300);
      assertThat(f.map("zeros")).hasSize(5); // 4 GiB + 4 KiB in 1 GiB maps
      assertThat(f.info("zeros").dtype()).isEqualTo(Dtype.U8);
    }
  }
}
