package io.loraspace.common.io.peft;

import io.loraspace.common.error.FormatException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.io.safetensors.TensorInfo;
import io.loraspace.common.linalg.DenseMatrix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads and writes HF PEFT LoRA adapter directories: {@code adapter_config.json} and {@code adapter_model.safetensors}
 * with keys {@code base_model.model.<module>.lora_A.weight} (r×in) and {@code ...lora_B.weight} (out×r). Keys with an
 * adapter name ({@code .lora_A.<name>.weight}) are accepted on read. Writing goes to a temporary sibling directory that
 * is renamed into place, so a directory under the final name is always complete.
 */
public final class AdapterDirectory {
  public static final String CONFIG = "adapter_config.json";
  public static final String WEIGHTS = "adapter_model.safetensors";
  /** PEFT's pickle weights (safe_serialization=False, or PEFT before 0.6): recognised, never read. */
  public static final String PICKLE_WEIGHTS = "adapter_model.bin";
  public static final String KEY_PREFIX = "base_model.model.";
  private static final Pattern KEY = Pattern.compile(
      "^base_model\\.model\\.(.+)\\.lora_([AB])(?:\\.[^.]+)?\\.weight$");

  private AdapterDirectory() {}

  /** The tensor key PEFT uses for {@code module}'s factor A or B. */
  public static String key(String module, char factor) {
    return KEY_PREFIX + module + ".lora_" + factor + ".weight";
  }

  /**
   * The message for an adapter directory without {@link #WEIGHTS}; with {@link #PICKLE_WEIGHTS} present it says
   * that pickle is not read and how to convert (the state dict keys are the same in both formats).
   */
  public static String missingWeights(String dir, boolean hasPickle) {
    if (!hasPickle) {
      return dir + ": no " + WEIGHTS;
    }
    String in = dir + "/" + PICKLE_WEIGHTS;
    return dir + ": has " + PICKLE_WEIGHTS + " (a PyTorch pickle, not read: unpickling can run code) but no " + WEIGHTS
        + "; re-save the adapter with save_pretrained(..., safe_serialization=True), or convert: python -c \"import"
        + " torch; from safetensors.torch import save_file; sd = torch.load('" + in + "', map_location='cpu',"
        + " weights_only=True); save_file({k: v.contiguous() for k, v in sd.items()}, '" + dir + "/" + WEIGHTS
        + "', metadata={'format': 'pt'})\"";
  }

  /** Reads an adapter directory; failures name the directory, file or tensor. */
  public static LoraAdapter read(Path dir) {
    Path configFile = dir.resolve(CONFIG);
    if (!Files.isDirectory(dir)) {
      throw new FormatException(dir + ": no such adapter directory");
    }
    if (!Files.isRegularFile(configFile)) {
      throw new FormatException(dir + ": no " + CONFIG + " (not a PEFT adapter directory)");
    }
    AdapterConfig config;
    try {
      config = AdapterConfig.parse(Files.readAllBytes(configFile), configFile.toString());
    } catch (IOException e) {
      throw new FormatException(configFile + ": cannot read: " + e.getMessage(), e);
    }
    Path weights = dir.resolve(WEIGHTS);
    if (!Files.isRegularFile(weights)) {
      throw new FormatException(missingWeights(dir.toString(), Files.isRegularFile(dir.resolve(PICKLE_WEIGHTS))));
    }
    Map<String, String[]> keys = new LinkedHashMap<>();
    LoraAdapter adapter = new LoraAdapter(config);
    try (SafetensorsFile f = SafetensorsFile.open(weights)) {
      for (String name : f.tensorNames()) {
        Matcher m = KEY.matcher(name);
        if (!m.matches()) {
          throw new FormatException(weights + ": tensor '" + name + "' is not a LoRA factor of a linear layer "
              + "(expected base_model.model.<module>.lora_A|lora_B.weight)");
        }
        String[] pair = keys.computeIfAbsent(m.group(1), k -> new String[2]);
        pair[m.group(2).equals("A") ? 0 : 1] = name;
      }
      for (Map.Entry<String, String[]> e : keys.entrySet()) {
        String module = e.getKey();
        if (e.getValue()[0] == null || e.getValue()[1] == null) {
          throw new FormatException(weights + ": module '" + module + "' has lora_" + (e.getValue()[0] == null
              ? "B but no lora_A" : "A but no lora_B"));
        }
        TensorInfo ta = f.info(e.getValue()[0]);
        TensorInfo tb = f.info(e.getValue()[1]);
        if (ta.rank() != 2 || tb.rank() != 2) {
          throw new FormatException(weights + ": module '" + module + "' factors have shapes " + ta.shapeString()
              + " and " + tb.shapeString() + ", expected 2-D");
        }
        int r = config.rankOf(module);
        if (ta.dim(0) != r || tb.dim(1) != r) {
          throw new FormatException(weights + ": module '" + module + "' has lora_A " + ta.shapeString()
              + " and lora_B " + tb.shapeString() + ", but " + CONFIG + " gives r = " + r);
        }
        DenseMatrix a = f.readMatrix(e.getValue()[0]);
        DenseMatrix b = f.readMatrix(e.getValue()[1]);
        adapter.put(module, a, b);
      }
    }
    return adapter;
  }

  /**
   * Writes {@code adapter} into {@code dir} (which must not exist, or is replaced when {@code replace}) with factors
   * stored as {@code dtype}.
   */
  public static void write(Path dir, LoraAdapter adapter, Dtype dtype, boolean replace) {
    Path abs = dir.toAbsolutePath();
    Path parent = abs.getParent();
    Path tmp = parent.resolve("." + abs.getFileName() + ".tmp-" + UUID.randomUUID());
    try {
      if (Files.exists(abs) && !replace) {
        throw new StateException("Adapter directory '" + dir + "' already exists");
      }
      Files.createDirectories(tmp);
      Files.write(tmp.resolve(CONFIG), adapter.config().toJson());
      SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
      for (Map.Entry<String, LoraAdapter.Factors> e : adapter.modules().entrySet()) {
        w.addMatrix(key(e.getKey(), 'A'), dtype, e.getValue().a());
        w.addMatrix(key(e.getKey(), 'B'), dtype, e.getValue().b());
      }
      w.write(tmp.resolve(WEIGHTS));
      if (Files.exists(abs)) {
        deleteRecursively(abs);
      }
      Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      try {
        deleteRecursively(tmp);
      } catch (IOException ignored) {
        // The original failure is what matters.
      }
      throw new StateException("Cannot write adapter directory '" + dir + "': " + e.getMessage(), e);
    }
  }

  private static void deleteRecursively(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    List<Path> all = new ArrayList<>();
    try (Stream<Path> s = Files.walk(p)) {
      s.forEach(all::add);
    }
    all.sort(Comparator.reverseOrder());
    for (Path x : all) {
      Files.delete(x);
    }
  }
}
