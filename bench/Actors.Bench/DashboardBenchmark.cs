using System.Globalization;
using Actors.Client;
using Actors.Grains;
using Actors.Tests.Shared;
using OpenQA.Selenium.Chrome;

namespace Actors.Bench;

/// <summary>
/// <c>dashboard</c>: how soon the web dashboard shows a VM's state change. A silo process serves the dashboard,
/// headless Chromium shows it, and the VM is paused and resumed in turn through the SDK. The page records when
/// the VM's state badge changes (a MutationObserver, on the browser's clock, which is this machine's); each change
/// is timed from the SDK call's return (the cluster has the new state by then) and from its start.
/// </summary>
internal static class DashboardBenchmark
{
    private const string Vm = "dash-bench";

    // The page's record of each text the VM's state badge took, with the time it took it.
    private const string Observe = """
        const badge = document.querySelector("#vms tr[data-vm='dash-bench'] td.state .badge");
        window.seen = [];
        new MutationObserver(() => window.seen.push([badge.textContent, Date.now()]))
            .observe(badge, { childList: true, characterData: true, subtree: true });
        """;

    private const string StateScript = "return document.querySelector(\"#vms tr[data-vm='dash-bench'] td.state .badge\")?.textContent ?? ''";

    public static async Task<int> RunAsync(DashboardBenchmarkOptions options)
    {
        int port = LoopbackPorts.Free(1)[0];
        using var silo = SiloProcess.Start("dash-bench-host", options: ["--dashboard", port.ToString(CultureInfo.InvariantCulture)]);
        await using var client = await HypervisorClient.ConnectAsync(silo.Gateway, TimeSpan.FromSeconds(60));
        await UntilAsync(async () => (await client.ListHostsAsync()).Count == 1, "the silo to register its host");
        // migrate-verify with passes=0 runs until told to stop, so it can be paused and resumed for as long as it takes.
        await client.CreateVmAsync(Vm, ClusterBenchmark.GuestPath("migrate-verify.elf"), 32UL << 20, 1, silo.Host,
            firmwareFiles: new Dictionary<string, string> { ["opt/actors/passes"] = "0" });
        await client.StartVmAsync(Vm);

        using ChromeDriver browser = HeadlessChromium.Start();
        try
        {
            browser.Navigate().GoToUrl($"http://127.0.0.1:{port}/");
            await UntilAsync(() => Task.FromResult(Equals(browser.ExecuteScript(StateScript), "Running")), "the page to show the VM running");
            browser.ExecuteScript(Observe);

            var fromReturn = new List<double>();
            var fromCall = new List<double>();
            // Two changes to warm up the page and the silo, not counted.
            for (int change = -2; change < options.Changes; change++)
            {
                bool pause = (change & 1) == 0;
                string shown = pause ? "Paused" : "Running";
                long seenBefore = (long)browser.ExecuteScript("return window.seen.length")!;
                long called = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                await (pause ? client.PauseVmAsync(Vm) : client.ResumeVmAsync(Vm));
                long returned = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                long onPage = await ShownAtAsync(browser, seenBefore, shown);
                if (change < 0)
                    continue;
                fromReturn.Add(onPage - returned);
                fromCall.Add(onPage - called);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"dashboard: {options.Changes} state changes (pause/resume) to the page showing them: from the SDK call's return median {Median(fromReturn):0} ms, max {fromReturn.Max():0} ms; from its start median {Median(fromCall):0} ms, max {fromCall.Max():0} ms"));
            return 0;
        }
        finally
        {
            browser.Quit();
            await client.StopVmAsync(Vm);
        }
    }

    /// <summary>When the page's badge first read <paramref name="state"/> after record <paramref name="from"/>, on the browser's clock (Unix milliseconds).</summary>
    private static async Task<long> ShownAtAsync(ChromeDriver browser, long from, string state)
    {
        string script = $"const s = window.seen.slice({from}).find(s => s[0] === '{state}'); return s ? s[1] : null;";
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (browser.ExecuteScript(script) is long at)
                return at;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the page never showed the VM {state}");
            await Task.Delay(20);
        }
    }

    private static double Median(List<double> values)
    {
        List<double> sorted = [.. values.Order()];
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static async Task UntilAsync(Func<Task<bool>> done, string what)
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }
}
