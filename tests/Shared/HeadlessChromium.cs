using OpenQA.Selenium.Chrome;

namespace Actors.Tests.Shared;

/// <summary>
/// Debian's Chromium, headless, driven through Debian's chromedriver with Selenium: a real browser for the
/// dashboard's tests and benchmark, and nothing fetched from elsewhere (Selenium is told both paths, so it
/// never looks for a browser or driver to download).
/// </summary>
public static class HeadlessChromium
{
    public const string Browser = "/usr/bin/chromium";
    public const string Driver = "/usr/bin/chromedriver";

    /// <summary>A new browser with a 1500×1000 window; throws with one line naming the packages when they are missing.</summary>
    public static ChromeDriver Start()
    {
        if (!File.Exists(Browser) || !File.Exists(Driver))
            throw new InvalidOperationException($"headless Chromium is needed at {Browser} and {Driver}: install Debian's packages chromium and chromium-driver (apt-get install chromium chromium-driver)");
        ChromeDriverService service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = Browser };
        // --no-sandbox: the tests may run as root, where Chromium's sandbox refuses to start.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1500,1000");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }
}
