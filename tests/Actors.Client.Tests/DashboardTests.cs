using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Actors.Grains;
using Actors.Silo;
using Actors.Tests.Shared;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using Xunit.Abstractions;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests;

/// <summary>
/// The silo's web dashboard (<c>--dashboard</c>): its options, a real headless Chromium that watches a VM appear,
/// starts it and migrates it from the page, and the requests it refuses (another site's, a rebound name's, an
/// action on a VM that does not exist, a client without the cluster's certificate).
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class DashboardTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan PageWait = TimeSpan.FromSeconds(30);

    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("actors-dashboard-test-");

    public void Dispose() => _files.Delete(recursive: true);

    [Fact]
    public void The_dashboard_listens_where_the_silo_does_unless_told_otherwise()
    {
        Assert.Null(Parse([]).Dashboard);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8443), Parse(["--dashboard", "8443"]).Dashboard);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 8443), Parse(["--listen", "127.0.0.2", "--dashboard", "8443"]).Dashboard);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 8443), Parse(["--listen", "127.0.0.2", "--dashboard", "8443", "--dashboard-address", "0.0.0.0"]).Dashboard);
        var environment = new Dictionary<string, string?> { ["ACTORS_DASHBOARD_PORT"] = "9000", ["ACTORS_DASHBOARD_ADDRESS"] = "127.0.0.3" };
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.3"), 9000), Parse([], environment).Dashboard);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.3"), 9001), Parse(["--dashboard", "9001"], environment).Dashboard);
    }

    [Theory]
    [InlineData("--dashboard 0", "--dashboard '0' is not a TCP port (1-65535)")]
    [InlineData("--dashboard https", "--dashboard 'https' is not a TCP port (1-65535)")]
    [InlineData("--dashboard 8443 --dashboard-address localhost", "--dashboard-address 'localhost' is not an IP address")]
    [InlineData("--dashboard-address 0.0.0.0", "--dashboard-address '0.0.0.0' needs --dashboard (or ACTORS_DASHBOARD_PORT)")]
    public void Bad_dashboard_options_are_refused_with_one_line(string args, string message)
    {
        var e = Assert.Throws<SiloConfigurationException>(() => Parse(args.Split(' ')));

        Assert.StartsWith(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_dashboard_port_that_is_another_port_of_the_silo_is_refused()
    {
        var e = Assert.Throws<SiloConfigurationException>(() =>
            ActorsSilo.Build(new SiloSettings("x", 11111, 30000, null, Health: new IPEndPoint(IPAddress.Loopback, 8080), Dashboard: new IPEndPoint(IPAddress.Loopback, 8080))));

        Assert.Equal("dashboard port 8080 is also the silo, gateway or health port; give it a port of its own", e.Message);
    }

    [Fact]
    public async Task A_silo_process_refuses_a_dashboard_port_in_use_with_one_line_and_exit_code_2()
    {
        int[] ports = LoopbackPorts.Free(2);
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int taken = ((IPEndPoint)holder.LocalEndpoint).Port;

        (int exitCode, string error) = await SiloProcess.RunToExitAsync(["--host", "dash-held", "--silo-port", Text(ports[0]), "--gateway-port", Text(ports[1]), "--dashboard", Text(taken)]);

        Assert.Equal(2, exitCode);
        Assert.Equal($"Actors.Silo: dashboard port {taken} on 127.0.0.1 is already in use; choose another with --dashboard", error.Trim());
    }

    [Fact]
    public async Task Headless_Chromium_sees_a_VM_appear_starts_it_and_migrates_it_from_the_page_to_the_other_host()
    {
        int[] ports = LoopbackPorts.Free(5);
        await using SiloProcess first = SiloProcess.Start(["--host", "dash-a", "--silo-port", Text(ports[0]), "--gateway-port", Text(ports[1]), "--dashboard", Text(ports[4])], new Dictionary<string, string>());
        await using SiloProcess second = SiloProcess.Start(["--host", "dash-b", "--silo-port", Text(ports[2]), "--gateway-port", Text(ports[3]), "--join", $"127.0.0.1:{ports[0]}"], new Dictionary<string, string>());
        await using HypervisorClient client = await HypervisorClient.ConnectAsync($"127.0.0.1:{ports[1]}", TimeSpan.FromMinutes(1));
        await WaitForHostsAsync(client, 2);

        using ChromeDriver browser = HeadlessChromium.Start();
        string screenshot = Path.Combine(AppContext.BaseDirectory, "artifacts", "dashboard-migration.png");
        try
        {
            browser.Navigate().GoToUrl($"http://127.0.0.1:{ports[4]}/");
            await PageAsync(browser, "return document.getElementById('connection').textContent", "live", "the page's live feed to open");
            await PageAsync(browser, "return document.querySelectorAll('#hosts tr[data-host]').length", 2L, "both hosts on the page");

            // passes=0: the guest stamps and checks its RAM until it reads 'q', so it runs through the whole move.
            await client.CreateVmAsync("dash-mv", Guest("migrate-verify.elf"), 32UL << 20, 1, "dash-a", firmwareFiles: new Dictionary<string, string> { ["opt/actors/passes"] = "0" });
            await PageAsync(browser, VmCell("dash-mv", "state"), "Defined", "the new VM to appear");

            browser.FindElement(By.CssSelector("tr[data-vm='dash-mv'] button[data-action='start']")).Click();
            await PageAsync(browser, VmCell("dash-mv", "state"), "Running", "the VM to run after Start was clicked");
            Assert.Equal("dash-a", await PageAsync(browser, VmCell("dash-mv", "host"), "dash-a", "the VM on its first host"));
            await PageAsync(browser, $"return {VmElement("dash-mv", "pre.console")}.textContent.includes('migrate-verify')", true, "the guest's console on the page");

            // The only other host is the one offered.
            Assert.Equal("dash-b", browser.FindElement(By.CssSelector("tr[data-vm='dash-mv'] select.target")).GetAttribute("value"));
            browser.FindElement(By.CssSelector("tr[data-vm='dash-mv'] button[data-action='migrate']")).Click();
            Assert.Equal("dash-mv: migrating to dash-b", await PageAsync(browser, "return document.getElementById('message').textContent", (object? text) => text is string s && !s.EndsWith('…'), "the page to answer the click"));
            await PageAsync(browser, "return document.querySelector(\"#migrations tr[data-vm='dash-mv']\")?.dataset.state ?? ''", "Completed", "the migration to complete", TimeSpan.FromMinutes(3));
            await PageAsync(browser, VmCell("dash-mv", "host"), "dash-b", "the VM shown on its new host");
            Assert.Equal("Running", await PageAsync(browser, VmCell("dash-mv", "state"), "Running", "the VM running on its new host"));

            VmStatus moved = await client.GetVmAsync("dash-mv");
            Assert.Equal((VmState.Running, "dash-b"), (moved.State, moved.Host));
            MigrationStatus migration = Assert.Single(await client.ListMigrationsAsync());
            Assert.Equal((MigrationState.Completed, "dash-a", "dash-b"), (migration.State, migration.Source, migration.Target));
        }
        finally
        {
            SaveScreenshot(browser, screenshot);
            browser.Quit();
        }

        await client.SendConsoleInputAsync("dash-mv", "q"u8.ToArray());
        VmStatus ended = await client.WaitForStateAsync("dash-mv", s => s.State != VmState.Running, TimeSpan.FromMinutes(2));
        Assert.True(ended.State == VmState.Off, $"the guest ended {ended.State}: {ended.FailureReason}");
    }

    [Fact]
    public async Task Another_sites_requests_a_rebound_name_a_GET_action_and_an_unknown_VM_are_refused_with_one_line()
    {
        int[] ports = LoopbackPorts.Free(3);
        await using SiloProcess silo = SiloProcess.Start(["--host", "dash-guard", "--silo-port", Text(ports[0]), "--gateway-port", Text(ports[1]), "--dashboard", Text(ports[2])], new Dictionary<string, string>());
        var dashboard = new Uri($"http://127.0.0.1:{ports[2]}/");
        using var http = new HttpClient { BaseAddress = dashboard, Timeout = TimeSpan.FromSeconds(30) };
        await silo.WaitForOkAsync(new Uri(dashboard, "api/snapshot"));
        await Poll(async () => (await http.GetStringAsync("api/snapshot")).Contains("\"name\":\"dash-guard\"", StringComparison.Ordinal), "the dashboard to show its silo's host");

        (HttpStatusCode status, string error) = await PostAsync(http, "api/vms/ghost/start", ("Origin", "http://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal($"cross-origin request refused (from http://evil.example): actions are taken from the dashboard's own page at http://127.0.0.1:{ports[2]}", error);

        (status, error) = await PostAsync(http, "api/vms/ghost/start", ("Sec-Fetch-Site", "cross-site"));
        Assert.Equal((HttpStatusCode.Forbidden, "cross-origin request refused (cross-site page): actions are taken from the dashboard's own page"), (status, error));

        using (var rebound = new HttpRequestMessage(HttpMethod.Get, "api/snapshot"))
        {
            rebound.Headers.Host = $"rebound.example:{ports[2]}";
            using HttpResponseMessage answer = await http.SendAsync(rebound);
            Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
            Assert.StartsWith("the dashboard without TLS answers only to its address or localhost", Error(await answer.Content.ReadAsStringAsync()));
        }

        using (HttpResponseMessage get = await http.GetAsync("api/vms/ghost/start"))
            Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);

        // From the dashboard's own page: let through, and the cluster's refusal comes back as it is.
        (status, error) = await PostAsync(http, "api/vms/ghost/start", ("Origin", $"http://127.0.0.1:{ports[2]}"), ("Sec-Fetch-Site", "same-origin"));
        Assert.Equal((HttpStatusCode.Conflict, "no VM named 'ghost'"), (status, error));
        (status, error) = await PostAsync(http, "api/vms/ghost/migrate", ("Content-Type", "application/json"));
        Assert.Equal((HttpStatusCode.BadRequest, "give the host to migrate to as JSON: {\"target\": \"HOST\"}"), (status, error));
    }

    [Fact]
    public async Task A_dashboard_with_TLS_lets_in_only_clients_with_a_certificate_of_the_clusters_CA()
    {
        string ours = Path.Combine(_files.FullName, "ours");
        string theirs = Path.Combine(_files.FullName, "theirs");
        Assert.Equal(0, (await HvctlAsync("cert", "create", ours, "--name", "dash-tls", "--name", "operator")).ExitCode);
        Assert.Equal(0, (await HvctlAsync("cert", "create", theirs, "--name", "intruder")).ExitCode);
        int[] ports = LoopbackPorts.Free(3);
        string[] tls = ["--tls-cert", Path.Combine(ours, "dash-tls.crt"), "--tls-key", Path.Combine(ours, "dash-tls.key"), "--tls-ca", Path.Combine(ours, "ca.crt")];
        await using SiloProcess silo = SiloProcess.Start(["--host", "dash-tls", "--silo-port", Text(ports[0]), "--gateway-port", Text(ports[1]), "--dashboard", Text(ports[2]), .. tls], new Dictionary<string, string>());
        var snapshot = new Uri($"https://127.0.0.1:{ports[2]}/api/snapshot");
        using X509Certificate2 authority = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(ours, "ca.crt"));
        using X509Certificate2 operatorCertificate = X509Certificate2.CreateFromPemFile(Path.Combine(ours, "operator.crt"), Path.Combine(ours, "operator.key"));
        using X509Certificate2 intruder = X509Certificate2.CreateFromPemFile(Path.Combine(theirs, "intruder.crt"), Path.Combine(theirs, "intruder.key"));

        string body = await Poll(() => GetOverTlsAsync(snapshot, authority, operatorCertificate), s => s.Contains("\"name\":\"dash-tls\"", StringComparison.Ordinal), "the dashboard to answer a client of its CA", silo);
        Assert.StartsWith("{\"silo\":\"dash-tls\"", body);

        HttpRequestException bare = await Assert.ThrowsAsync<HttpRequestException>(() => GetOverTlsAsync(snapshot, authority, clientCertificate: null));
        output.WriteLine($"without a client certificate: {bare.Message}");
        HttpRequestException foreign = await Assert.ThrowsAsync<HttpRequestException>(() => GetOverTlsAsync(snapshot, authority, intruder));
        output.WriteLine($"with another CA's certificate: {foreign.Message}");
    }

    /// <summary>GETs <paramref name="url"/> over TLS, trusting only <paramref name="authority"/>, showing <paramref name="clientCertificate"/> if any.</summary>
    private static async Task<string> GetOverTlsAsync(Uri url, X509Certificate2 authority, X509Certificate2? clientCertificate)
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(authority);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return certificate is X509Certificate2 server && chain.Build(server);
        };
        if (clientCertificate is not null)
            handler.SslOptions.ClientCertificates = [clientCertificate];
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        using HttpResponseMessage answer = await http.GetAsync(url);
        answer.EnsureSuccessStatusCode();
        return await answer.Content.ReadAsStringAsync();
    }

    private static async Task<(HttpStatusCode Status, string Error)> PostAsync(HttpClient http, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(string.Empty, Encoding.UTF8) };
        foreach ((string name, string value) in headers)
        {
            if (name == "Content-Type")
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(value);
            else
                request.Headers.Add(name, value);
        }

        using HttpResponseMessage answer = await http.SendAsync(request);
        return (answer.StatusCode, Error(await answer.Content.ReadAsStringAsync()));
    }

    private static string Error(string json) => JsonDocument.Parse(json).RootElement.GetProperty("error").GetString()!;

    private static string VmElement(string vm, string selector) => $"document.querySelector(\"#vms tr[data-vm='{vm}'] {selector}\")";

    /// <summary>A script that reads one cell of a VM's row ('' while the row is not there).</summary>
    private static string VmCell(string vm, string cell) => $"return {VmElement(vm, "td." + cell)}?.textContent ?? ''";

    private static Task<object?> PageAsync(ChromeDriver browser, string script, object expected, string what, TimeSpan? timeout = null) =>
        PageAsync(browser, script, value => Equals(value, expected), what, timeout);

    /// <summary>Runs <paramref name="script"/> in the page until its value satisfies <paramref name="done"/>; fails with the page's text after the timeout.</summary>
    private static async Task<object?> PageAsync(ChromeDriver browser, string script, Func<object?, bool> done, string what, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? PageWait);
        while (true)
        {
            object? value = browser.ExecuteScript(script);
            if (done(value))
                return value;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"timed out waiting for {what}; the script gave '{value}'; the page says:\n{browser.FindElement(By.TagName("body")).Text}");
            await Task.Delay(50);
        }
    }

    private void SaveScreenshot(ChromeDriver browser, string path)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            browser.GetScreenshot().SaveAsFile(path);
            output.WriteLine($"screenshot: {path}");
        }
        catch (WebDriverException e)
        {
            output.WriteLine($"no screenshot: {e.Message}");
        }
    }

    private static async Task WaitForHostsAsync(HypervisorClient client, int count) =>
        await Poll(async () => (await client.ListHostsAsync()).Count(h => h.Backend != "unreachable") == count, $"{count} hosts to register");

    private static async Task Poll(Func<Task<bool>> done, string what)
    {
        await Poll(async () => await done() ? "yes" : string.Empty, s => s.Length > 0, what);
    }

    private static async Task<string> Poll(Func<Task<string>> probe, Func<string, bool> done, string what, SiloProcess? silo = null)
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        string last = "nothing yet";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await probe();
                if (done(last))
                    return last;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or HypervisorException)
            {
                last = e.Message;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"timed out waiting for {what}; last: {last}" + (silo is null ? string.Empty : $"; the silo printed:\n{silo.Tail}"));
        return last;
    }

    private static SiloSettings Parse(string[] args, Dictionary<string, string?>? environment = null)
    {
        var required = new Dictionary<string, string?> { ["ACTORS_HOST"] = "dash-host", ["ACTORS_SILO_PORT"] = "11111", ["ACTORS_GATEWAY_PORT"] = "30000" };
        return SiloCommandLine.Parse(args, name => environment?.GetValueOrDefault(name) ?? required.GetValueOrDefault(name));
    }

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);
}
