<#
  secscan Windows capture (secscan.windows-capture/1)

  Collects the facts secscan needs from this PC in ONE PowerShell process and prints ONE JSON
  document. It changes nothing on the PC (secedit writes one temporary file and deletes it).
  Runs on Windows PowerShell 5.1 (Windows 7 needs WMF 5.1) and on PowerShell 7, as administrator
  or not: a section that cannot be read says so (status denied/unsupported/error with the reason).

  Usage (on the PC):
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File collect.ps1 -OutFile capture.json
  Then, anywhere secscan is installed:
    secscan agent decode capture.json --out report.json

  Written for the PowerShell 5.1 grammar on purpose: no ??, ?., ternary, && / || chains, -AsArray,
  ForEach-Object -Parallel. Dates are written as ISO 8601 UTC strings so the output does not depend
  on the PowerShell version; enums are written as text or numbers explicitly.
#>
param([string]$OutFile = '')

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Utf8 = New-Object System.Text.UTF8Encoding($false)
try { [Console]::OutputEncoding = $Utf8 } catch { $null = $_ }

$CimTimeout = 30
$VersionValues = 'ProductName', 'DisplayVersion', 'ReleaseId', 'CurrentBuild', 'CurrentBuildNumber', 'UBR', 'EditionID',
'InstallationType', 'CurrentVersion', 'CSDVersion'
$KmsValues = 'KeyManagementServiceName', 'KeyManagementServicePort'
$ScreenValues = 'ScreenSaveActive', 'ScreenSaverIsSecure', 'ScreenSaveTimeOut', 'SCRNSAVE.EXE'
$Started = [DateTime]::UtcNow
$Sections = [ordered]@{}

# The activator artefact paths come from secscan/agent/data/activators.toml: `secscan agent script
# windows` writes them between the two marker lines. Environment variables are expanded here.
$ArtefactPaths = @(
  # secscan:artefact-paths:begin
  # secscan:artefact-paths:end
)

function ConvertTo-Iso($Value) {
  if ($null -eq $Value) { return $null }
  if ($Value -is [datetime]) {
    # FILETIME zero (1601) and DateTime.MinValue mean "never".
    if ($Value.Year -le 1601) { return $null }
    return $Value.ToUniversalTime().ToString('o')
  }
  return [string]$Value
}

function Get-FailureStatus($Failure) {
  $ex = $Failure.Exception
  $hr = ''
  try { $hr = '{0:X8}' -f $ex.HResult } catch { $hr = '' }
  $text = [string]$ex.Message + ' ' + [string]$Failure.FullyQualifiedErrorId + ' ' + $hr
  if ($ex -is [System.UnauthorizedAccessException] -or $ex -is [System.Security.SecurityException]) { return 'denied' }
  if ($text -match '0x80041003|80041003|0x80070005|80070005|AccessDenied|Access is denied|PermissionDenied') { return 'denied' }
  if ($ex -is [System.Management.Automation.CommandNotFoundException]) { return 'unsupported' }
  if ($text -match '0x8004100E|8004100E|0x80041010|80041010|InvalidNamespace|InvalidClass|Invalid namespace|Invalid class|NotSupported') { return 'unsupported' }
  return 'error'
}

function Invoke-Section([string]$Name, [scriptblock]$Body) {
  $watch = [System.Diagnostics.Stopwatch]::StartNew()
  $entry = [ordered]@{ status = 'ok'; error = $null; ms = 0; data = $null }
  try {
    $entry.data = & $Body
  } catch {
    $entry.status = Get-FailureStatus $_
    $entry.error = ([string]$_.Exception.Message).Trim()
  }
  $entry.ms = [int]$watch.ElapsedMilliseconds
  $Sections[$Name] = $entry
}

function Deny([string]$Why) {
  throw (New-Object System.UnauthorizedAccessException($Why))
}

function Get-Cim([string]$Class, [string]$Namespace = 'root/cimv2', [string]$Filter = '') {
  if ($Filter) {
    return Get-CimInstance -Namespace $Namespace -ClassName $Class -Filter $Filter -OperationTimeoutSec $CimTimeout
  }
  return Get-CimInstance -Namespace $Namespace -ClassName $Class -OperationTimeoutSec $CimTimeout
}

# Values of one registry key as an ordered table (only the -Only names when given: never more than
# needed, e.g. not DigitalProductId, which encodes the product key), or $null when the key does not
# exist. A key that exists but may not be read raises (the section then says "denied").
function Get-RegKey([string]$Path, [string[]]$Only = @()) {
  try {
    $key = Get-Item -LiteralPath $Path
  } catch [System.Management.Automation.ItemNotFoundException] {
    return $null
  }
  $names = $Only
  if ($Only.Count -eq 0) { $names = $key.GetValueNames() }
  $values = [ordered]@{}
  foreach ($valueName in $names) {
    $value = $key.GetValue($valueName, $null, 'DoNotExpandEnvironmentNames')
    if ($value -is [byte[]]) { $value = [Convert]::ToBase64String($value) }
    $values[$valueName] = $value
  }
  return $values
}

function Get-RegSubKeyNames([string]$Path) {
  try {
    return @((Get-Item -LiteralPath $Path).GetSubKeyNames())
  } catch [System.Management.Automation.ItemNotFoundException] {
    return @()
  }
}

$Identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
$Elevated = ([System.Security.Principal.WindowsPrincipal]$Identity).IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)

Invoke-Section 'system' {
  $os = Get-Cim 'Win32_OperatingSystem' | Select-Object -First 1
  $cs = Get-Cim 'Win32_ComputerSystem' | Select-Object -First 1
  $cpu = Get-Cim 'Win32_Processor' | Select-Object -First 1
  $bios = Get-Cim 'Win32_BIOS' | Select-Object -First 1
  $crypto = Get-RegKey 'HKLM:\SOFTWARE\Microsoft\Cryptography' 'MachineGuid'
  $nics = @(Get-Cim 'Win32_NetworkAdapterConfiguration' -Filter 'IPEnabled = TRUE' | ForEach-Object {
      [ordered]@{ description = $_.Description; mac = $_.MACAddress; ip = @($_.IPAddress) }
    })
  [ordered]@{
    hostname = [System.Environment]::MachineName
    os = [ordered]@{
      caption = $os.Caption
      version = $os.Version
      build_number = $os.BuildNumber
      product_type = $os.ProductType
      architecture = $os.OSArchitecture
      install_date = ConvertTo-Iso $os.InstallDate
      last_boot = ConvertTo-Iso $os.LastBootUpTime
    }
    current_version = Get-RegKey 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' $VersionValues
    computer = [ordered]@{
      manufacturer = $cs.Manufacturer
      model = $cs.Model
      domain = $cs.Domain
      part_of_domain = $cs.PartOfDomain
      workgroup = $cs.Workgroup
      total_memory = $cs.TotalPhysicalMemory
      logical_processors = $cs.NumberOfLogicalProcessors
      pc_system_type = $cs.PCSystemType
      hypervisor_present = $cs.HypervisorPresent
    }
    cpu = $cpu.Name
    bios_serial = $bios.SerialNumber
    machine_guid = $crypto.MachineGuid
    interfaces = $nics
  }
}

Invoke-Section 'securitycenter2' {
  $fields = 'displayName', 'instanceGuid', 'pathToSignedProductExe', 'pathToSignedReportingExe', 'productState', 'timestamp'
  [ordered]@{
    antivirus = @(Get-Cim 'AntiVirusProduct' 'root/SecurityCenter2' | Select-Object -Property $fields)
    firewall = @(Get-Cim 'FirewallProduct' 'root/SecurityCenter2' | Select-Object -Property $fields)
  }
}

Invoke-Section 'defender' {
  $s = Get-Cim 'MSFT_MpComputerStatus' 'root/Microsoft/Windows/Defender' | Select-Object -First 1
  if ($null -eq $s) { throw 'MSFT_MpComputerStatus returned nothing' }
  [ordered]@{
    AMServiceEnabled = $s.AMServiceEnabled
    AntivirusEnabled = $s.AntivirusEnabled
    AntispywareEnabled = $s.AntispywareEnabled
    RealTimeProtectionEnabled = $s.RealTimeProtectionEnabled
    BehaviorMonitorEnabled = $s.BehaviorMonitorEnabled
    IoavProtectionEnabled = $s.IoavProtectionEnabled
    OnAccessProtectionEnabled = $s.OnAccessProtectionEnabled
    IsTamperProtected = $s.IsTamperProtected
    AMRunningMode = $s.AMRunningMode
    AMProductVersion = $s.AMProductVersion
    AMEngineVersion = $s.AMEngineVersion
    AntivirusSignatureVersion = $s.AntivirusSignatureVersion
    AntivirusSignatureAge = $s.AntivirusSignatureAge
    AntivirusSignatureLastUpdated = ConvertTo-Iso $s.AntivirusSignatureLastUpdated
    QuickScanAge = $s.QuickScanAge
    FullScanAge = $s.FullScanAge
    ProductStatus = $s.ProductStatus
    ComputerState = $s.ComputerState
    DefenderSignaturesOutOfDate = $s.DefenderSignaturesOutOfDate
  }
}

Invoke-Section 'defender_exclusions' {
  $p = Get-Cim 'MSFT_MpPreference' 'root/Microsoft/Windows/Defender' | Select-Object -First 1
  $paths = @($p.ExclusionPath | Where-Object { $_ })
  $processes = @($p.ExclusionProcess | Where-Object { $_ })
  # Without administrator rights Defender answers with a placeholder instead of the list.
  if ((@($paths) + @($processes)) -match '^N/A') { Deny 'Defender shows exclusions to administrators only' }
  [ordered]@{ paths = $paths; processes = $processes }
}

Invoke-Section 'defender_threats' {
  [ordered]@{
    threats = @(Get-Cim 'MSFT_MpThreat' 'root/Microsoft/Windows/Defender' | ForEach-Object {
        [ordered]@{ name = $_.ThreatName; id = $_.ThreatID; severity = $_.SeverityID; active = $_.IsActive }
      })
  }
}

Invoke-Section 'services' {
  [ordered]@{
    services = @(Get-Cim 'Win32_Service' | ForEach-Object {
        [ordered]@{ name = $_.Name; display_name = $_.DisplayName; state = $_.State; start_mode = $_.StartMode; path = $_.PathName }
      })
  }
}

Invoke-Section 'processes' {
  [ordered]@{
    processes = @(Get-Cim 'Win32_Process' | ForEach-Object {
        [ordered]@{ name = $_.Name; path = $_.ExecutablePath; pid = $_.ProcessId }
      })
  }
}

Invoke-Section 'uninstall' {
  $roots = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall',
  'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall',
  'HKCU:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'
  $entries = @()
  foreach ($root in $roots) {
    foreach ($sub in Get-RegSubKeyNames $root) {
      $v = Get-RegKey ($root + '\' + $sub) 'DisplayName', 'Publisher', 'DisplayVersion', 'InstallLocation'
      if ($null -ne $v -and $v.DisplayName) {
        $entries += [ordered]@{
          name = $v.DisplayName; publisher = $v.Publisher; version = $v.DisplayVersion
          location = $v.InstallLocation; key = $sub
        }
      }
    }
  }
  [ordered]@{ entries = $entries }
}

Invoke-Section 'licensing' {
  $fields = 'ID', 'Name', 'Description', 'ApplicationID', 'PartialProductKey', 'ProductKeyChannel', 'LicenseStatus',
  'LicenseStatusReason', 'GracePeriodRemaining', 'LicenseFamily', 'LicenseIsAddon', 'KeyManagementServiceMachine',
  'KeyManagementServicePort', 'DiscoveredKeyManagementServiceMachineName', 'DiscoveredKeyManagementServiceMachinePort',
  'VLActivationInterval', 'VLRenewalInterval'
  $products = @(Get-Cim 'SoftwareLicensingProduct' -Filter 'PartialProductKey IS NOT NULL' | Select-Object -Property $fields)
  $svc = Get-Cim 'SoftwareLicensingService' | Select-Object -First 1
  # Never the full firmware key: only whether there is one and its last five characters.
  $oa3 = [string]$svc.OA3xOriginalProductKey
  $oa3Tail = $null
  if ($oa3.Length -ge 5) { $oa3Tail = $oa3.Substring($oa3.Length - 5) }
  [ordered]@{
    products = $products
    service = [ordered]@{
      Version = $svc.Version
      KeyManagementServiceMachine = $svc.KeyManagementServiceMachine
      KeyManagementServicePort = $svc.KeyManagementServicePort
      DiscoveredKeyManagementServiceMachineName = $svc.DiscoveredKeyManagementServiceMachineName
      VLActivationInterval = $svc.VLActivationInterval
      VLRenewalInterval = $svc.VLRenewalInterval
      OA3KeyPresent = ($oa3.Length -gt 0)
      OA3KeyLast5 = $oa3Tail
    }
  }
}

Invoke-Section 'office_ospp' {
  $fields = 'ID', 'Name', 'Description', 'ApplicationID', 'PartialProductKey', 'LicenseStatus', 'LicenseStatusReason',
  'GracePeriodRemaining', 'LicenseFamily', 'KeyManagementServiceMachine', 'KeyManagementServicePort',
  'DiscoveredKeyManagementServiceMachineName', 'VLActivationInterval', 'VLRenewalInterval'
  [ordered]@{
    products = @(Get-Cim 'OfficeSoftwareProtectionProduct' -Filter 'PartialProductKey IS NOT NULL' | Select-Object -Property $fields)
  }
}

Invoke-Section 'kms_registry' {
  $spp = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform'
  $keys = [ordered]@{}
  $keys[$spp] = Get-RegKey $spp $KmsValues
  # Per-application and per-SKU overrides (MAS KMS38 writes 127.0.0.2 here).
  foreach ($app in '55c92734-d682-4d71-983e-d6ec3f16059f', '0ff1ce15-a989-479d-af46-f275c6370663') {
    $appKey = $spp + '\' + $app
    $keys[$appKey] = Get-RegKey $appKey $KmsValues
    foreach ($sku in Get-RegSubKeyNames $appKey) { $keys[$appKey + '\' + $sku] = Get-RegKey ($appKey + '\' + $sku) $KmsValues }
  }
  foreach ($ospp in 'HKLM:\SOFTWARE\Microsoft\OfficeSoftwareProtectionPlatform', 'HKLM:\SOFTWARE\WOW6432Node\Microsoft\OfficeSoftwareProtectionPlatform') {
    $keys[$ospp] = Get-RegKey $ospp $KmsValues
  }
  $found = [ordered]@{}
  foreach ($k in $keys.Keys) {
    $v = $keys[$k]
    if ($null -ne $v -and ($v.KeyManagementServiceName -or $v.KeyManagementServicePort)) {
      $found[$k] = [ordered]@{ KeyManagementServiceName = $v.KeyManagementServiceName; KeyManagementServicePort = $v.KeyManagementServicePort }
    }
  }
  [ordered]@{ keys = $found }
}

Invoke-Section 'ifeo' {
  $base = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options'
  $hooks = [ordered]@{}
  foreach ($exe in 'SppExtComObj.exe', 'sppsvc.exe', 'osppsvc.exe', 'SLsvc.exe') {
    $v = Get-RegKey ($base + '\' + $exe)
    if ($null -ne $v -and $v.Count -gt 0) { $hooks[$exe] = $v }
  }
  [ordered]@{ keys = $hooks }
}

Invoke-Section 'artefact_files' {
  $present = @()
  foreach ($p in $ArtefactPaths) {
    $full = [System.Environment]::ExpandEnvironmentVariables($p)
    if (Test-Path -LiteralPath $full) { $present += $full }
  }
  [ordered]@{ checked = $ArtefactPaths.Count; present = $present }
}

Invoke-Section 'scheduled_tasks' {
  # The Task Scheduler COM object works from Windows 7 on; Get-ScheduledTask needs Windows 8.
  $scheduler = New-Object -ComObject 'Schedule.Service'
  $scheduler.Connect()
  $tasks = @()
  $unreadable = 0
  $folders = New-Object System.Collections.Queue
  $folders.Enqueue($scheduler.GetFolder('\'))
  while ($folders.Count -gt 0) {
    $folder = $folders.Dequeue()
    try {
      foreach ($sub in $folder.GetFolders(0)) { $folders.Enqueue($sub) }
      $folderTasks = @($folder.GetTasks(1))
    } catch {
      # A folder this account may not read: count it, keep going.
      $unreadable += 1
      continue
    }
    foreach ($task in $folderTasks) {
      $actions = @()
      try {
        foreach ($action in $task.Definition.Actions) {
          if ($action.Type -eq 0) { $actions += (([string]$action.Path) + ' ' + ([string]$action.Arguments)).Trim() }
        }
      } catch { $actions += '?' }
      $tasks += [ordered]@{ path = $task.Path; enabled = [bool]$task.Enabled; actions = $actions }
    }
  }
  [ordered]@{ tasks = $tasks; complete = ($Elevated -and $unreadable -eq 0); unreadable_folders = $unreadable }
}

Invoke-Section 'hosts_file' {
  $path = Join-Path $env:SystemRoot 'System32\drivers\etc\hosts'
  $lines = @()
  if (Test-Path -LiteralPath $path) {
    $lines = @(Get-Content -LiteralPath $path -TotalCount 5000 | ForEach-Object { ([string]$_).Trim() } |
        Where-Object { $_ -and -not $_.StartsWith('#') } | Select-Object -First 1000)
  }
  [ordered]@{ lines = $lines }
}

Invoke-Section 'firewall' {
  $profiles = @()
  $source = 'Get-NetFirewallProfile'
  try {
    $profiles = @(Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object {
        [ordered]@{
          name = [string]$_.Name; enabled = [string]$_.Enabled
          default_inbound = [string]$_.DefaultInboundAction; default_outbound = [string]$_.DefaultOutboundAction
        }
      })
  } catch [System.Management.Automation.CommandNotFoundException] {
    # Windows 7: the registry holds the same switch (GPO values win over local ones).
    $source = 'registry'
    $base = 'HKLM:\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy'
    $policy = 'HKLM:\SOFTWARE\Policies\Microsoft\WindowsFirewall'
    $names = [ordered]@{ Domain = 'DomainProfile'; Private = 'StandardProfile'; Public = 'PublicProfile' }
    foreach ($n in $names.Keys) {
      $local = Get-RegKey ($base + '\' + $names[$n]) 'EnableFirewall', 'DefaultInboundAction'
      $gpo = Get-RegKey ($policy + '\' + $names[$n]) 'EnableFirewall', 'DefaultInboundAction'
      $profiles += [ordered]@{
        name = $n; enable_firewall = $local.EnableFirewall; policy_enable_firewall = $gpo.EnableFirewall
        default_inbound_action = $local.DefaultInboundAction; policy_default_inbound_action = $gpo.DefaultInboundAction
      }
    }
  }
  [ordered]@{ source = $source; profiles = $profiles }
}

Invoke-Section 'hotfixes' {
  [ordered]@{
    hotfixes = @(Get-Cim 'Win32_QuickFixEngineering' | ForEach-Object {
        $iso = $null
        $installed = [string]$_.InstalledOn
        $parsed = [datetime]::MinValue
        $styles = [System.Globalization.DateTimeStyles]::AssumeUniversal
        if ($installed -and [datetime]::TryParse($installed, [System.Globalization.CultureInfo]::InvariantCulture, $styles, [ref]$parsed)) {
          $iso = $parsed.ToUniversalTime().ToString('yyyy-MM-dd')
        }
        [ordered]@{ id = $_.HotFixID; description = $_.Description; installed_on = $installed; installed_on_iso = $iso }
      })
  }
}

Invoke-Section 'windows_update' {
  # The documented Automatic Updates policy values ("Configure Automatic Updates using Registry
  # Editor", WSUS docs): NoAutoUpdate/AUOptions/UseWUServer in ...\WindowsUpdate\AU, WUServer in
  # ...\WindowsUpdate. The local (Control Panel) setting of Windows 7/8.1 and the service start type
  # (2 automatic, 3 manual, 4 disabled) come along, and the Windows Update Agent's own reading of the
  # effective setting (IAutomaticUpdatesSettings.NotificationLevel) where its COM object answers.
  $wu = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate'
  $level = $null
  $levelError = $null
  try {
    $level = [int](New-Object -ComObject 'Microsoft.Update.AutoUpdate').Settings.NotificationLevel
  } catch {
    $levelError = ([string]$_.Exception.Message).Trim()
  }
  [ordered]@{
    policy = Get-RegKey $wu 'WUServer', 'WUStatusServer', 'DisableWindowsUpdateAccess'
    policy_au = Get-RegKey ($wu + '\AU') 'NoAutoUpdate', 'AUOptions', 'UseWUServer', 'ScheduledInstallDay', 'ScheduledInstallTime'
    local_au = Get-RegKey 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update' 'AUOptions'
    wuauserv = Get-RegKey 'HKLM:\SYSTEM\CurrentControlSet\Services\wuauserv' 'Start'
    notification_level = $level
    notification_level_error = $levelError
  }
}

Invoke-Section 'listening_ports' {
  # Get-NetTCPConnection/Get-NetUDPEndpoint exist from Windows 8/Server 2012 on; Windows 7 (even with
  # WMF 5.1) lacks them: netstat -ano is read instead and parsed by secscan (the numbers and addresses
  # do not depend on the display language). Filtering by State here rather than with -State Listen,
  # which throws when nothing matches.
  $source = 'Get-NetTCPConnection'
  $fallbackReason = $null
  $tcp = @()
  $udp = @()
  $netstat = @()
  try {
    $tcp = @(Get-NetTCPConnection | Where-Object { [string]$_.State -eq 'Listen' } | ForEach-Object {
        [ordered]@{ address = [string]$_.LocalAddress; port = [int]$_.LocalPort; pid = [int]$_.OwningProcess }
      })
    $udp = @(Get-NetUDPEndpoint | ForEach-Object {
        [ordered]@{ address = [string]$_.LocalAddress; port = [int]$_.LocalPort; pid = [int]$_.OwningProcess }
      })
  } catch {
    $source = 'netstat'
    $fallbackReason = ([string]$_.Exception.Message).Trim()
    $tcp = @()
    $udp = @()
    $netstat = @(& netstat.exe -ano | ForEach-Object { [string]$_ })
    if ($LASTEXITCODE -ne 0) { throw ('netstat -ano failed (exit code ' + $LASTEXITCODE + ')') }
  }
  [ordered]@{ source = $source; fallback_reason = $fallbackReason; tcp = $tcp; udp = $udp; netstat = $netstat }
}

Invoke-Section 'smb' {
  $server = $null
  $serverError = $null
  try {
    $c = Get-SmbServerConfiguration
    $server = [ordered]@{ EnableSMB1Protocol = $c.EnableSMB1Protocol; EnableSMB2Protocol = $c.EnableSMB2Protocol }
  } catch {
    $serverError = ([string]$_.Exception.Message).Trim()
  }
  [ordered]@{
    server_configuration = $server
    server_configuration_error = $serverError
    lanman_server = Get-RegKey 'HKLM:\SYSTEM\CurrentControlSet\Services\LanmanServer\Parameters' 'SMB1', 'SMB2'
    mrxsmb10 = Get-RegKey 'HKLM:\SYSTEM\CurrentControlSet\Services\mrxsmb10' 'Start'
  }
}

Invoke-Section 'rdp_autorun' {
  $ts = Get-RegKey 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server' 'fDenyTSConnections'
  $rdpTcp = Get-RegKey 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp' 'UserAuthentication', 'PortNumber'
  $tsPolicy = Get-RegKey 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services' 'fDenyTSConnections', 'UserAuthentication'
  $explorer = Get-RegKey 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer' 'NoDriveTypeAutoRun', 'NoAutorun'
  $userExplorer = Get-RegKey 'HKCU:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer' 'NoDriveTypeAutoRun'
  [ordered]@{
    fDenyTSConnections = $ts.fDenyTSConnections
    policy_fDenyTSConnections = $tsPolicy.fDenyTSConnections
    UserAuthentication = $rdpTcp.UserAuthentication
    policy_UserAuthentication = $tsPolicy.UserAuthentication
    PortNumber = $rdpTcp.PortNumber
    NoDriveTypeAutoRun = $explorer.NoDriveTypeAutoRun
    NoAutorun = $explorer.NoAutorun
    user_NoDriveTypeAutoRun = $userExplorer.NoDriveTypeAutoRun
  }
}

Invoke-Section 'local_admins' {
  # By SID: the group name is localized ("Administrators" differs per display language).
  $method = 'Get-LocalGroupMember'
  $members = @()
  try {
    $members = @(Get-LocalGroupMember -SID 'S-1-5-32-544' | ForEach-Object {
        [ordered]@{ name = $_.Name; sid = $_.SID.Value; class = [string]$_.ObjectClass; source = [string]$_.PrincipalSource }
      })
  } catch {
    # Not on Windows 7, and it throws on orphaned SIDs: ask WMI instead.
    $method = 'Win32_GroupUser'
    $group = Get-Cim 'Win32_Group' -Filter "LocalAccount = TRUE AND SID = 'S-1-5-32-544'" | Select-Object -First 1
    $members = @(Get-CimAssociatedInstance -InputObject $group -Association 'Win32_GroupUser' -OperationTimeoutSec $CimTimeout | ForEach-Object {
        [ordered]@{
          name = ([string]$_.Domain + '\' + [string]$_.Name); sid = $_.SID
          class = $_.CimClass.CimClassName; local = $_.LocalAccount
        }
      })
  }
  [ordered]@{ method = $method; members = $members }
}

Invoke-Section 'local_users' {
  [ordered]@{
    users = @(Get-Cim 'Win32_UserAccount' -Filter 'LocalAccount = TRUE' | ForEach-Object {
        [ordered]@{ name = $_.Name; sid = $_.SID; disabled = $_.Disabled }
      })
  }
}

Invoke-Section 'secedit' {
  if (-not $Elevated) { Deny 'secedit /export needs administrator rights' }
  $tmp = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'secscan-' + [guid]::NewGuid().ToString() + '.inf')
  try {
    $null = & secedit.exe /export /cfg $tmp /areas SECURITYPOLICY /quiet
    if (-not (Test-Path -LiteralPath $tmp)) { throw ('secedit /export wrote nothing (exit code ' + $LASTEXITCODE + ')') }
    # The file is UTF-16LE; it travels as bytes and is decoded by secscan.
    [ordered]@{ inf_base64 = [Convert]::ToBase64String([System.IO.File]::ReadAllBytes($tmp)) }
  } finally {
    Remove-Item -LiteralPath $tmp -Force -ErrorAction SilentlyContinue
  }
}

Invoke-Section 'net_accounts' {
  # net.exe writes in the OEM code page; read it with that code page so Vietnamese labels survive.
  $oem = [System.Text.Encoding]::GetEncoding([System.Globalization.CultureInfo]::CurrentCulture.TextInfo.OEMCodePage)
  $saved = [Console]::OutputEncoding
  try {
    try { [Console]::OutputEncoding = $oem } catch { $null = $_ }
    # No 2>&1: with ErrorActionPreference Stop, PS 5.1 turns the first stderr line into an exception.
    $lines = @(& net.exe accounts | ForEach-Object { [string]$_ })
  } finally {
    try { [Console]::OutputEncoding = $saved } catch { $null = $_ }
  }
  if ($LASTEXITCODE -ne 0) { throw ('net accounts failed (exit code ' + $LASTEXITCODE + '): ' + ($lines -join ' ')) }
  [ordered]@{ lines = $lines; culture = [System.Globalization.CultureInfo]::CurrentUICulture.Name }
}

Invoke-Section 'bitlocker' {
  # CIM rather than Get-BitLockerVolume: the BitLocker module is missing on Home editions.
  $fields = 'DriveLetter', 'ProtectionStatus', 'ConversionStatus', 'EncryptionMethod', 'VolumeType'
  [ordered]@{
    system_drive = $env:SystemDrive
    volumes = @(Get-Cim 'Win32_EncryptableVolume' 'root/CIMV2/Security/MicrosoftVolumeEncryption' | Select-Object -Property $fields)
  }
}

Invoke-Section 'screen_lock' {
  $users = @()
  foreach ($sid in Get-RegSubKeyNames 'Registry::HKEY_USERS') {
    if ($sid -notmatch '^S-1-5-21-[-0-9]+$') { continue }
    $account = $null
    try { $account = (New-Object System.Security.Principal.SecurityIdentifier($sid)).Translate([System.Security.Principal.NTAccount]).Value } catch { $account = $null }
    $users += [ordered]@{
      sid = $sid
      account = $account
      desktop = Get-RegKey ('Registry::HKEY_USERS\' + $sid + '\Control Panel\Desktop') $ScreenValues
      policy = Get-RegKey ('Registry::HKEY_USERS\' + $sid + '\Software\Policies\Microsoft\Windows\Control Panel\Desktop') $ScreenValues
    }
  }
  $system = Get-RegKey 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' 'InactivityTimeoutSecs'
  [ordered]@{ users = $users; InactivityTimeoutSecs = $system.InactivityTimeoutSecs }
}

$Finished = [DateTime]::UtcNow
$Capture = [ordered]@{
  schema = 'secscan.windows-capture/1'
  script_version = '1'
  capture_id = [guid]::NewGuid().ToString()
  hostname = [System.Environment]::MachineName
  started_at = $Started.ToString('o')
  finished_at = $Finished.ToString('o')
  duration_ms = [int]($Finished - $Started).TotalMilliseconds
  powershell = [ordered]@{ version = $PSVersionTable.PSVersion.ToString(); edition = [string]$PSVersionTable.PSEdition }
  elevated = $Elevated
  user = $Identity.Name
  sections = $Sections
}
$Json = ConvertTo-Json -InputObject $Capture -Depth 12 -Compress
if ($OutFile) {
  # UTF-8 without BOM, whatever the PowerShell version (`> file` in 5.1 would write UTF-16).
  $target = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
  [System.IO.File]::WriteAllText($target, $Json, $Utf8)
  Write-Host ('secscan capture written to ' + $target)
} else {
  [Console]::Out.Write($Json)
}
