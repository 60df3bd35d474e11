package io.loraspace.jobs.recycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.peft.AdapterConfig;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.recycle.AdapterPca;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.inputs.RemoteSafetensors;
import io.loraspace.jobs.output.Manifest;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Projects every module of an adapter onto a recycle basis: A rows and s·B columns become {@code μ + V Vᵀ (w − μ)},
 * B is divided by s again, and the result is written as a PEFT adapter directory with the input's config, plus
 * {@code reconstruct.json} (relative error per module and factor, ‖ΔW − ΔW_rec‖ / ‖ΔW‖).
 */
public final class Reconstruct {
  private Reconstruct() {}

  public static ObjectNode run(JobContext ctx, String basis, String adapter, String dtypeName, Path outDir)
      throws Exception {
    Configuration conf = ctx.hadoopConf();
    Path root = new Path(basis);
    FileSystem bfs = root.getFileSystem(conf);
    Path cfg = new Path(root, "basis/config.json");
    if (!bfs.exists(cfg)) {
      cfg = new Path(root, "config.json");
      root = root.getParent();
    }
    if (!bfs.exists(cfg)) {
      throw new ArgumentException("Option 'basis' is '" + basis + "': no basis/config.json there (is it the output "
          + "of a finished recycle job?)");
    }
    JsonNode config;
    try (InputStream in = bfs.open(cfg)) {
      config = Manifest.json().readTree(in);
    }
    if (!config.path("format").asText().equals("loraspace-eigenlorax")) {
      throw new FormatException(cfg + ": format is '" + config.path("format").asText() + "', expected "
          + "'loraspace-eigenlorax'");
    }
    Dtype dtype = Dtype.parse(dtypeName, "option 'dtype'");
    Path dir = new Path(adapter);
    FileSystem afs = dir.getFileSystem(conf);
    Path acfg = new Path(dir, AdapterDirectory.CONFIG);
    if (!afs.exists(acfg)) {
      throw new ArgumentException("Option 'adapter' is '" + adapter + "': no " + AdapterDirectory.CONFIG);
    }
    byte[] cfgBytes;
    try (InputStream in = afs.open(acfg)) {
      cfgBytes = in.readAllBytes();
    }
    AdapterConfig ac = AdapterConfig.parse(cfgBytes, acfg.toString());
    ctx.manifest().input(adapter, "adapter").input(basis, "basis");
    SafetensorsWriter out = new SafetensorsWriter().metadata("format", "pt")
        .metadata("loraspace.method", "eigenlorax-reconstruct");
    ObjectNode report = Manifest.json().createObjectNode();
    report.put("adapter", adapter).put("basis", basis);
    ObjectNode mods = report.putObject("modules");
    double worst = 0;
    try (RemoteSafetensors f = RemoteSafetensors.open(afs, new Path(dir, AdapterDirectory.WEIGHTS))) {
      Map<String, String[]> keys = new TreeMap<>();
      for (String k : f.tensors().keySet()) {
        java.util.regex.Matcher m = java.util.regex.Pattern
            .compile("^base_model\\.model\\.(.+)\\.lora_([AB])\\.weight$").matcher(k);
        if (!m.matches()) {
          throw new FormatException(dir + ": tensor '" + k + "' is not a LoRA factor of a linear layer");
        }
        keys.computeIfAbsent(m.group(1), x -> new String[2])[m.group(2).equals("A") ? 0 : 1] = k;
      }
      for (Map.Entry<String, String[]> e : keys.entrySet()) {
        String module = e.getKey();
        JsonNode bm = config.path("modules").path(module);
        if (bm.isMissingNode()) {
          throw new ArgumentException("Module '" + module + "' of adapter " + adapter + " is not in basis " + basis
              + " (it has " + config.path("modules").size() + " modules)");
        }
        double s = ac.scaling(module);
        DenseMatrix a = f.readMatrix(e.getValue()[0]);
        DenseMatrix b = f.readMatrix(e.getValue()[1]);
        Path bfile = new Path(root, bm.path("file").asText());
        DenseMatrix aRec;
        DenseMatrix bRec;
        try (RemoteSafetensors bf = RemoteSafetensors.open(bfs, bfile)) {
          aRec = project(bf, "A", a.transpose(), module, adapter).transpose();
          DenseMatrix sb = b.copy();
          Matrices.scale(s, sb);
          bRec = project(bf, "B", sb, module, adapter);
          Matrices.scale(1.0 / s, bRec);
        }
        DenseMatrix dw = Matrices.multiply(b, a);
        DenseMatrix dwRec = Matrices.multiply(bRec, aRec);
        ObjectNode mr = mods.putObject(module);
        mr.put("A", Matrices.relativeFrobeniusDiff(aRec, a)).put("B", Matrices.relativeFrobeniusDiff(bRec, b))
            .put("deltaW", Matrices.relativeFrobeniusDiff(dwRec, dw));
        worst = Math.max(worst, mr.get("deltaW").asDouble());
        out.addMatrix(e.getValue()[0], dtype, aRec);
        out.addMatrix(e.getValue()[1], dtype, bRec);
      }
    }
    report.put("maxDeltaWError", worst);
    FileSystem ofs = outDir.getFileSystem(conf);
    AdapterConfig written = ac.copy();
    written.setInitLoraWeights(null); // true: the factors are in the file
    try (OutputStream os = ofs.create(new Path(outDir, AdapterDirectory.CONFIG), true)) {
      os.write(written.toJson());
    }
    try (OutputStream os = ofs.create(new Path(outDir, AdapterDirectory.WEIGHTS), true)) {
      out.writeTo(os);
    }
    try (OutputStream os = ofs.create(new Path(outDir, "reconstruct.json"), true)) {
      os.write(Manifest.json().writerWithDefaultPrettyPrinter().writeValueAsBytes(report));
    }
    ctx.manifest().count("modules", mods.size());
    return report;
  }

  private static DenseMatrix project(RemoteSafetensors bf, String factor, DenseMatrix w, String module,
      String adapter) throws java.io.IOException {
    DenseMatrix comps = bf.readMatrix(factor + ".components").transpose(); // d × K
    double[] mean = bf.readDoubles(factor + ".mean");
    if (comps.rows() != w.rows()) {
      throw new FormatException("Module '" + module + "' lora_" + factor + " of adapter " + adapter + " has dim "
          + w.rows() + " but the basis has dim " + comps.rows());
    }
    return AdapterPca.Basis.of(comps, mean).reconstruct(w);
  }
}
