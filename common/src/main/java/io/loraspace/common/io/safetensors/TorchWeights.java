package io.loraspace.common.io.safetensors;

import io.loraspace.common.error.FormatException;
import java.util.List;

/**
 * Recognises PyTorch weight files where safetensors is expected and says how to convert them. Such files are never
 * read: unpickling can run arbitrary code. Signatures: {@code torch.save}'s zip archive (the default since PyTorch
 * 1.6) starts with {@code PK\x03\x04}; a pickle (the legacy format, and plain pickled state dicts) starts with the
 * PROTO opcode {@code 0x80} and a protocol byte 2–5.
 */
public final class TorchWeights {
  private TorchWeights() {}

  /** "a PyTorch zip archive (torch.save)" or "a PyTorch pickle (protocol N)" for such a start, else null. */
  public static String describe(byte[] head, int length) {
    if (length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
      return "a zip archive, as torch.save writes (pytorch_model.bin, .pt)";
    }
    if (length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
      return "a Python pickle (protocol " + head[1] + "), as torch.save writes in its legacy format";
    }
    return null;
  }

  /**
   * Throws when the first bytes of {@code label} (a file of {@code size} bytes) are a PyTorch signature and not a
   * plausible safetensors start (header length in range and the header opening with '{'). {@code head} holds at
   * least the first 9 bytes when the file has them.
   */
  public static void rejectIfTorch(String label, byte[] head, int length, long size, long headerLength) {
    String what = describe(head, length);
    if (what == null) {
      return;
    }
    boolean plausible = headerLength > 0 && headerLength <= SafetensorsFile.MAX_HEADER_BYTES
        && 8 + headerLength <= size && length > 8 && head[8] == '{';
    if (!plausible) {
      throw new FormatException(label + ": not a safetensors file: it is " + what + "; loraspace reads only"
          + " safetensors (unpickling can run code). Convert it: " + convertFile(label));
    }
  }

  /** A shell command converting one torch.save file in place to safetensors. */
  public static String convertFile(String path) {
    String out = path + ".converted";
    return "python -c \"import torch; from safetensors.torch import save_file; sd = torch.load('" + path
        + "', map_location='cpu', weights_only=True); save_file({k: v.contiguous() for k, v in sd.items()}, '" + out
        + "', metadata={'format': 'pt'})\" && mv '" + out + "' '" + path + "'";
  }

  /**
   * The message for a checkpoint directory without safetensors weights that holds PyTorch files ({@code bins}:
   * their names), or null when it holds none.
   */
  public static String checkpointHint(String dir, List<String> bins) {
    if (bins.isEmpty()) {
      return null;
    }
    String convert;
    if (bins.size() == 1 && !bins.get(0).endsWith(".index.json")) {
      String in = dir + "/" + bins.get(0);
      convert = "python -c \"import torch; from safetensors.torch import save_file; sd = torch.load('" + in
          + "', map_location='cpu', weights_only=True); save_file({k: v.contiguous() for k, v in sd.items()}, '"
          + dir + "/model.safetensors', metadata={'format': 'pt'})\"";
    } else {
      convert = "python -c \"from transformers import AutoModelForCausalLM; AutoModelForCausalLM.from_pretrained('"
          + dir + "', torch_dtype='auto').save_pretrained('" + dir + "-safetensors', safe_serialization=True)\"";
    }
    return dir + ": holds PyTorch weights " + bins + " but no " + ShardedCheckpoint.INDEX + " or "
        + ShardedCheckpoint.SINGLE + "; .bin/.pt/.pth checkpoints are not read (unpickling can run code). Convert: "
        + convert;
  }

  /** Whether a file name looks like PyTorch weights ({@code *.bin}, {@code *.pt}, {@code *.pth}, a .bin index). */
  public static boolean isTorchWeightsName(String name) {
    return name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth")
        || name.equals("pytorch_model.bin.index.json");
  }
}
