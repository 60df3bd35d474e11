package io.loraspace.common.io.safetensors;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.peft.AdapterConfig;
import io.loraspace.common.io.peft.AdapterDirectory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PyTorch weights where safetensors is expected: recognised by signature or name, with how to convert. */
class TorchWeightsTest {
  @TempDir Path dir;

  /** pickle.dumps({'w': [1.0, 2.0]}, protocol=2), as Python writes it. */
  static final byte[] PICKLE = {(byte) 128, 2, 125, 113, 0, 88, 1, 0, 0, 0, 119, 113, 1, 93, 113, 2, 40, 71, 63,
      (byte) 240, 0, 0, 0, 0, 0, 0, 71, 64, 0, 0, 0, 0, 0, 0, 0, 101, 115, 46};

  /** A zip archive laid out like torch.save's (archive/data.pkl first). */
  static byte[] torchZip() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(b)) {
      z.putNextEntry(new ZipEntry("archive/data.pkl"));
      z.write(PICKLE);
      z.closeEntry();
      z.putNextEntry(new ZipEntry("archive/data/0"));
      z.write(new byte[4096]);
      z.closeEntry();
    }
    return b.toByteArray();
  }

  private static String convert(Path p) {
    return "python -c \"import torch; from safetensors.torch import save_file; sd = torch.load('" + p
        + "', map_location='cpu', weights_only=True); save_file({k: v.contiguous() for k, v in sd.items()}, '" + p
        + ".converted', metadata={'format': 'pt'})\" && mv '" + p + ".converted' '" + p + "'";
  }

  @Test
  void zipArchiveRenamedToSafetensorsIsNamedWithTheConversion() throws IOException {
    Path p = dir.resolve("model.safetensors");
    Files.write(p, torchZip());
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": not a safetensors file: it is a zip archive, as torch.save writes (pytorch_model.bin, "
            + ".pt); loraspace reads only safetensors (unpickling can run code). Convert it: " + convert(p));
  }

  @Test
  void pickleRenamedToSafetensorsIsNamedWithTheConversion() throws IOException {
    Path p = dir.resolve("model.safetensors");
    Files.write(p, PICKLE);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(FormatException.class)
        .hasMessage(p + ": not a safetensors file: it is a Python pickle (protocol 2), as torch.save writes in its "
            + "legacy format; loraspace reads only safetensors (unpickling can run code). Convert it: " + convert(p));
  }

  @Test
  void checkpointWithOnlyPytorchModelBinSaysHowToConvert() throws IOException {
    Files.write(dir.resolve("pytorch_model.bin"), torchZip());
    Files.writeString(dir.resolve("config.json"), "{}");
    assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(FormatException.class)
        .hasMessage(dir + ": holds PyTorch weights [pytorch_model.bin] but no model.safetensors.index.json or "
            + "model.safetensors; .bin/.pt/.pth checkpoints are not read (unpickling can run code). Convert: python -c "
            + "\"import torch; from safetensors.torch import save_file; sd = torch.load('" + dir
            + "/pytorch_model.bin', map_location='cpu', weights_only=True); save_file({k: v.contiguous() for k, v in "
            + "sd.items()}, '" + dir + "/model.safetensors', metadata={'format': 'pt'})\"");
  }

  @Test
  void shardedBinCheckpointSaysHowToConvertWithTransformers() throws IOException {
    for (String f : List.of("pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin")) {
      Files.write(dir.resolve(f), torchZip());
    }
    Files.writeString(dir.resolve("pytorch_model.bin.index.json"), "{\"weight_map\": {}}");
    assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(FormatException.class)
        .hasMessage(dir + ": holds PyTorch weights [pytorch_model-00001-of-00002.bin, pytorch_model-00002-of-00002"
            + ".bin, pytorch_model.bin.index.json] but no model.safetensors.index.json or model.safetensors; "
            + ".bin/.pt/.pth checkpoints are not read (unpickling can run code). Convert: python -c \"from "
            + "transformers import AutoModelForCausalLM; AutoModelForCausalLM.from_pretrained('" + dir
            + "', torch_dtype='auto').save_pretrained('" + dir + "-safetensors', safe_serialization=True)\"");
  }

  @Test
  void emptyCheckpointDirectoryKeepsThePlainMessage() {
    assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(FormatException.class)
        .hasMessage(dir + ": neither model.safetensors.index.json nor model.safetensors found");
  }

  @Test
  void adapterWithOnlyAdapterModelBinSaysHowToConvert() throws IOException {
    Files.write(dir.resolve(AdapterDirectory.CONFIG), AdapterConfig.lora(4, 8, List.of("q_proj")).toJson());
    Files.write(dir.resolve("adapter_model.bin"), torchZip());
    assertThatThrownBy(() -> AdapterDirectory.read(dir)).isInstanceOf(FormatException.class)
        .hasMessage(dir + ": has adapter_model.bin (a PyTorch pickle, not read: unpickling can run code) but no "
            + "adapter_model.safetensors; re-save the adapter with save_pretrained(..., safe_serialization=True), or "
            + "convert: python -c \"import torch; from safetensors.torch import save_file; sd = torch.load('" + dir
            + "/adapter_model.bin', map_location='cpu', weights_only=True); save_file({k: v.contiguous() for k, v in "
            + "sd.items()}, '" + dir + "/adapter_model.safetensors', metadata={'format': 'pt'})\"");
  }
}
