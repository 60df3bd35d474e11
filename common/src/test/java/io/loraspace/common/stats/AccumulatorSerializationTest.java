package io.loraspace.common.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.objenesis.strategy.StdInstantiatorStrategy;

class AccumulatorSerializationTest {

  private static Object javaRoundTrip(Object o) throws IOException, ClassNotFoundException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return in.readObject();
    }
  }

  private static Object kryoRoundTrip(Kryo kryo, Object o) {
    Output out = new Output(1 << 12, -1);
    kryo.writeClassAndObject(out, o);
    try (Input in = new Input(out.toBytes())) {
      return kryo.readClassAndObject(in);
    }
  }

  /** Kryo configured as Spark's KryoSerializer does by default (no registration required, Objenesis fallback). */
  private static Kryo sparkLikeKryo() {
    Kryo kryo = new Kryo();
    kryo.setRegistrationRequired(false);
    kryo.setInstantiatorStrategy(new Kryo.DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
    return kryo;
  }

  private static void assertSameStatistics(Object back, Accumulator original) {
    assertThat(back).isInstanceOf(original.getClass()).isNotSameAs(original);
    Accumulator a = (Accumulator) back;
    StatsTestSupport.assertBitwiseEqual(AccumulatorFormatTest.observable(a), AccumulatorFormatTest.observable(original),
        original.kind().name());
    assertThat(a.toBytes()).isEqualTo(original.toBytes());
  }

  @Test
  void javaSerializationRoundTripsEveryKind() throws Exception {
    for (Accumulator a : AccumulatorFormatTest.populated()) {
      assertSameStatistics(javaRoundTrip(a), a);
    }
  }

  @Test
  void kryoWithJavaSerializerRoundTripsEveryKindThroughTheByteFormat() {
    Kryo kryo = sparkLikeKryo();
    for (Accumulator a : AccumulatorFormatTest.populated()) {
      kryo.register(a.getClass(), new JavaSerializer());
      assertSameStatistics(kryoRoundTrip(kryo, a), a);
    }
  }

  @Test
  void kryoDefaultFieldSerializerRoundTripsEveryKind() {
    Kryo kryo = sparkLikeKryo();
    for (Accumulator a : AccumulatorFormatTest.populated()) {
      assertSameStatistics(kryoRoundTrip(kryo, a), a);
    }
  }

  @Test
  void roundTrippedAccumulatorsKeepAccumulating() throws Exception {
    Random rnd = new Random(3);
    SampleGramAccumulator original = (SampleGramAccumulator) AccumulatorFormatTest.populated().get(1);
    SampleGramAccumulator viaJava = (SampleGramAccumulator) javaRoundTrip(original);
    SampleGramAccumulator viaKryo = (SampleGramAccumulator) kryoRoundTrip(sparkLikeKryo(), original);
    for (int s = 0; s < 9; s++) {
      double[] block = StatsTestSupport.rows(rnd, s + 1, 6);
      original.addSampleTokens(block, 0, s + 1);
      viaJava.addSampleTokens(block, 0, s + 1);
      viaKryo.addSampleTokens(block, 0, s + 1);
    }
    StatsTestSupport.assertClose(viaJava.gram().data(), original.gram().data(), "after Java round trip");
    StatsTestSupport.assertClose(viaKryo.gram().data(), original.gram().data(), "after Kryo round trip");
    assertThat(viaJava.sampleCount()).isEqualTo(original.sampleCount()).isEqualTo(16);
  }

  @Test
  void corruptedSerializedBytesFailInTheStrictReader() throws Exception {
    TokenGramAccumulator a = (TokenGramAccumulator) AccumulatorFormatTest.populated().get(0);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(a);
    }
    byte[] stream = bytes.toByteArray();
    byte[] format = a.toBytes();
    int at = indexOf(stream, format);
    assertThat(at).isPositive();
    stream[at + 4] = 7; // version
    assertThatThrownBy(() -> {
      try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(stream))) {
        in.readObject();
      }
    }).hasMessage("Accumulator bytes, field 'version': expected 1, actual 7");
  }

  @Test
  void bypassingTheProxyIsRefused() throws Exception {
    // A stream that names the accumulator class itself (not the proxy) must not be accepted.
    java.lang.reflect.Method m = TokenGramAccumulator.class.getDeclaredMethod("readObject", ObjectInputStream.class);
    m.setAccessible(true);
    assertThatThrownBy(() -> {
      try {
        m.invoke(new TokenGramAccumulator(1), (ObjectInputStream) null);
      } catch (java.lang.reflect.InvocationTargetException e) {
        throw e.getCause();
      }
    }).isInstanceOf(InvalidObjectException.class)
        .hasMessage("TokenGramAccumulator is serialized through its byte format (proxy expected)");
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
