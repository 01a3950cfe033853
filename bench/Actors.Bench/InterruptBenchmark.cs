using System.Diagnostics;
using System.Globalization;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Platform;
using Actors.HwBackend.Worker;

namespace Actors.Bench;

/// <summary>
/// <c>interrupts</c>: how long a device interrupt takes to reach the guest's handler, and how
/// steady a periodic local APIC timer is. Every time is guest time on the machine's clock, which
/// the guest's RDTSC reads directly (1 GHz TSC, offset 0), so no host/guest clock conversion
/// enters the numbers.
/// <list type="bullet">
/// <item>UART latency: the host queues a byte at time t0; COM1 raises IRQ 4, the IOAPIC sends vector
/// 0x40 to the local APIC, the vCPU takes it; the handler's first instruction is RDTSC = t1.
/// Measured with the vCPU halted in <c>sti; hlt</c> (it must be woken) and spinning with interrupts on.</item>
/// <item>Timer: the APIC timer in periodic mode, the vCPU halted or spinning between ticks; see
/// <see cref="MeasureTimer"/> for what is reported.</item>
/// </list>
/// </summary>
internal static class InterruptBenchmark
{
    public static int Run(InterruptBenchmarkOptions options)
    {
        Console.WriteLine($"interrupts: {options.Samples} UART interrupts per case, APIC timer at {options.TimerHz} Hz for {options.Seconds} s of guest time");
        var halted = MeasureUartLatency(halted: true, options.Samples);
        Report("uart-irq-latency (vCPU halted)", halted);
        var busy = MeasureUartLatency(halted: false, options.Samples);
        Report("uart-irq-latency (vCPU running)", busy);
        MeasureTimer(options.TimerHz, options.Seconds, halted: true);
        MeasureTimer(options.TimerHz, options.Seconds, halted: false);
        return 0;
    }

    private static List<long> MeasureUartLatency(bool halted, int samples)
    {
        var probe = new TimestampProbe();
        var ended = new ManualResetEventSlim();
        using var host = VmWorker.Create(new EmulatorBackend(), "irq-latency", InterruptBenchGuests.UartLatency(halted), 64UL << 20, 1, console: null, _ => ended.Set());
        host.Ports.Register(InterruptBenchGuests.ReadyPort, 12, probe, "bench-probe");
        host.Start();
        if (!probe.Ready.Wait(TimeSpan.FromSeconds(10)))
            throw new InvalidOperationException("the latency guest did not get ready within 10 s");
        var latencies = new List<long>(samples);
        byte[] input = [(byte)'x'];
        for (int i = 0; i < samples && !ended.IsSet; i++)
        {
            long before = probe.Count;
            long t0 = host.GuestTimeNanoseconds;
            host.SendConsoleInput(input);
            var wait = Stopwatch.StartNew();
            while (probe.Count == before)
            {
                if (wait.Elapsed > TimeSpan.FromSeconds(5))
                {
                    var p = host.GetProcessor(0, includeRegisters: true);
                    throw new TimeoutException($"interrupt {i} did not reach the guest within 5 s: rip=0x{p.State!.Rip:x} halted={p.State.Halted} rflags=0x{p.State.Rflags:x} exits={string.Join(",", p.ExitsByReason.Where(e => e.Value > 0).Select(e => $"{e.Key}={e.Value}"))} pending-input={host.PendingConsoleInputBytes}");
                }
                Thread.SpinWait(20);
            }
            latencies.Add(probe.LastTimestamp - t0);
            while (probe.Done <= i)
            {
                if (wait.Elapsed > TimeSpan.FromSeconds(5))
                    throw new TimeoutException($"the handler of interrupt {i} did not finish within 5 s");
                Thread.SpinWait(20);
            }
            // Let the guest go back to waiting (halted or spinning) before the next one.
            Thread.Sleep(1);
        }
        host.Stop();
        return latencies;
    }

    /// <summary>
    /// Runs the timer for a warm-up second (the first ticks of a process also time the JIT), then
    /// for <paramref name="seconds"/> measured seconds. A tick's delivery latency is its handler's
    /// RDTSC past the last grid point (start + n × period); a slot is skipped when the grid moved
    /// on by more than one period between two handlers (the vCPU or timer thread was descheduled:
    /// the owed ticks then come late, one right after another, from the APIC's tick backlog);
    /// drift is the measured window's first-to-last time against its ideal length, so it counts
    /// ticks lost past the backlog's cap as well as late ones.
    /// </summary>
    private static void MeasureTimer(int hz, int seconds, bool halted)
    {
        const int warmupSeconds = 1;
        int ticks = hz * (warmupSeconds + seconds) + 1;
        var ended = new ManualResetEventSlim();
        using var host = VmWorker.Create(new EmulatorBackend(), "apic-timer", InterruptBenchGuests.PeriodicTimer(hz, ticks, halted), 64UL << 20, 1, console: null, _ => ended.Set());
        host.Start();
        if (!ended.Wait(TimeSpan.FromSeconds((warmupSeconds + seconds) * 10 + 10)))
            throw new TimeoutException("the timer guest did not finish");
        var memory = host.Machine.Memory;
        long start = (long)memory.ReadValue<ulong>(InterruptBenchGuests.DataBase + 8);
        long period = 1_000_000_000L / hz;
        int first = hz * warmupSeconds;
        var latency = new List<long>(hz * seconds);
        long skipped = 0;
        long previousSlot = -1;
        long firstTime = 0, lastTime = 0;
        for (int k = first; k < ticks; k++)
        {
            long time = (long)memory.ReadValue<ulong>(InterruptBenchGuests.TickLog + (ulong)k * 8);
            long slot = (time - start) / period;
            latency.Add(time - start - slot * period);
            if (previousSlot >= 0 && slot > previousSlot + 1)
                skipped += slot - previousSlot - 1;
            previousSlot = slot;
            if (k == first)
                firstTime = time;
            lastTime = time;
        }
        string waiting = halted ? "vCPU halted" : "vCPU running";
        Report($"apic-timer-delivery-latency ({hz} Hz, {waiting})", latency);
        long interval = lastTime - firstTime;
        long ideal = (long)(ticks - 1 - first) * period;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"apic-timer-drift ({hz} Hz, {waiting}, {seconds} s after {warmupSeconds} s warm-up): first-to-last {interval} ns vs ideal {ideal} ns: drift {(interval - ideal) / 1000.0:F1} us ({(interval - ideal) * 1e6 / ideal:F1} ppm), grid slots skipped {skipped}"));
    }

    private static void Report(string name, List<long> nanoseconds)
    {
        if (nanoseconds.Count == 0)
        {
            Console.WriteLine($"{name}: no samples");
            return;
        }
        nanoseconds.Sort();
        double P(double q) => nanoseconds[Math.Min(nanoseconds.Count - 1, (int)(q * nanoseconds.Count))] / 1000.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: median {P(0.5):F1} us, p90 {P(0.9):F1} us, p99 {P(0.99):F1} us, min {nanoseconds[0] / 1000.0:F1} us, max {nanoseconds[^1] / 1000.0:F1} us (n={nanoseconds.Count})"));
    }

    /// <summary>The guest's report ports: 0x500 "ready" then "handler done", 0x504/0x508 the low and high halves of a TSC value.</summary>
    private sealed class TimestampProbe : IPortDevice
    {
        private uint _low;
        private long _count;
        private long _done = -1;
        private long _last;

        public ManualResetEventSlim Ready { get; } = new();

        public long Count => Volatile.Read(ref _count);

        /// <summary>Handlers that finished; the first write to the port is the guest's "ready", not a handler.</summary>
        public long Done => Volatile.Read(ref _done);

        public long LastTimestamp => Volatile.Read(ref _last);

        public uint Read(ushort port, int size) => 0xFFFF_FFFF;

        public void Write(ushort port, int size, uint value)
        {
            switch (port)
            {
                case InterruptBenchGuests.ReadyPort:
                    Interlocked.Increment(ref _done);
                    Ready.Set();
                    break;
                case InterruptBenchGuests.TimestampLowPort:
                    _low = value;
                    break;
                case InterruptBenchGuests.TimestampHighPort:
                    Volatile.Write(ref _last, (long)(((ulong)value << 32) | _low));
                    Interlocked.Increment(ref _count);
                    break;
            }
        }
    }
}
