// The console's words in English and Simplified Chinese. The browser's language picks one;
// the switch in the top bar remembers the choice.
const WORDS = {
  en: {
    brand: "Ordo", signin: "Sign in", username: "Username", password: "Password", signout: "Sign out",
    signin_failed: "Sign-in failed", queue: "Work queue", orders: "Orders", inventory: "Inventory",
    rules: "Rules", dashboard: "Dashboard", language: "中文",
    waiting: "waiting", no_waiting: "Nothing is waiting for a person.", age: "Waiting", ship_by: "Ship by",
    tier: "Tier", total: "Total", rule: "Rule and reason", actions: "Actions", order: "Order",
    channel: "Channel", status: "Status", priority: "Priority", customer: "Customer", created: "Received",
    release: "Release", release_refund: "Release, refund", release_resend: "Release, resend",
    cancel: "Cancel", hold: "Hold", change_address: "Change address", approve: "Approve", reject: "Reject",
    reason: "Reason", reason_needed: "Say why (kept in the audit trail)", confirm: "Confirm", close: "Close",
    done: "Done", refused: "Refused", returns_waiting: "Returns awaiting review", rma: "Return",
    lines: "Lines", notes: "Notes", search: "Search", reset: "Reset", export_csv: "Export CSV",
    date_from: "From", date_to: "To", sku: "SKU", warehouse: "Warehouse", min_total: "Min total",
    max_total: "Max total", order_id: "Order id", customer_id: "Customer id", any: "any",
    page: "Page", of: "of", prev: "Previous", next: "Next", results: "orders",
    timeline: "Timeline", parcels: "Parcels", payment: "Payment", decisions: "Decisions", returns: "Returns",
    address: "Shipping address", reveal: "Reveal", purpose: "Purpose", temporal: "Open in Temporal Web UI",
    fired: "fired", not_fired: "did not fire", failed_at: "first failing condition", facts: "facts",
    carrier: "Carrier", waybill: "Waybill", tracking: "Tracking", quantity: "Qty", price: "Unit price",
    name: "Name", phone: "Phone", province: "Province", city: "City", district: "District", street: "Street",
    postal_code: "Postal code", on_hand: "On hand", reserved: "Reserved", safety: "Safety",
    available: "Available", in_transit: "In transit", defective: "Defective", low_only: "Low stock only",
    alerts: "Alerts", transfers: "Transfers", new_transfer: "Start a transfer", from_wh: "From",
    to_wh: "To", start: "Start", ledger: "Ledger", kind: "Kind", reference: "Reference", when: "When",
    in_force: "In force", history: "History", candidate: "Candidate", check: "Check",
    simulate: "Simulate", last_n: "Last N orders", publish: "Publish", no_problems: "No problems",
    problems: "Problems", diff: "Difference from the file in force", changes: "Decisions that would change",
    samples: "Sample orders", upload: "Load a file", version: "Version", loaded_by: "Loaded by",
    summary: "Summary", change: "Change", count: "Count", computed: "computed", definition: "Definition",
    orders_behind: "Orders behind this", csv: "CSV", slow_days: "Slow after (days)", apply: "Apply",
    no_data: "No data in this range.", masked_note: "Personal data is masked.", loading: "Loading…",
    authorised: "authorised", captured: "captured", refunded: "refunded", none: "none",
    refresh_note: "Updates by itself.", simulated: "decisions re-decided", would_change: "would change",
    all_waiting: "All waiting", published: "Published", line: "line", version_live: "the workers load it within seconds",
  },
  zh: {
    brand: "Ordo", signin: "登录", username: "用户名", password: "密码", signout: "退出",
    signin_failed: "登录失败", queue: "异常处理", orders: "订单", inventory: "库存", rules: "规则",
    dashboard: "数据分析与报表中心", language: "English",
    waiting: "待处理", no_waiting: "目前没有需要人工处理的订单。", age: "已等待", ship_by: "最晚发货",
    tier: "客户等级", total: "金额", rule: "规则与原因", actions: "操作", order: "订单",
    channel: "渠道", status: "状态", priority: "优先级", customer: "客户", created: "接单时间",
    release: "放行", release_refund: "放行并退款", release_resend: "放行并重发",
    cancel: "取消", hold: "挂起", change_address: "修改地址", approve: "同意", reject: "拒绝",
    reason: "原因", reason_needed: "请填写原因（记入审计日志）", confirm: "确认", close: "关闭",
    done: "已完成", refused: "被拒绝", returns_waiting: "待审核退货", rma: "退货单",
    lines: "商品行", notes: "备注", search: "查询", reset: "重置", export_csv: "导出 CSV",
    date_from: "开始日期", date_to: "结束日期", sku: "SKU", warehouse: "仓库", min_total: "最低金额",
    max_total: "最高金额", order_id: "订单号", customer_id: "客户编号", any: "全部",
    page: "第", of: "页，共", prev: "上一页", next: "下一页", results: "个订单",
    timeline: "状态时间线", parcels: "包裹", payment: "支付", decisions: "规则决策", returns: "退货",
    address: "收货地址", reveal: "查看明文", purpose: "用途", temporal: "在 Temporal Web UI 中打开",
    fired: "命中", not_fired: "未命中", failed_at: "首个不满足的条件", facts: "事实",
    carrier: "承运商", waybill: "运单号", tracking: "物流轨迹", quantity: "数量", price: "单价",
    name: "收件人", phone: "电话", province: "省", city: "市", district: "区/县", street: "详细地址",
    postal_code: "邮编", on_hand: "在库", reserved: "已预占", safety: "安全库存",
    available: "可用", in_transit: "在途", defective: "残次", low_only: "仅看低库存",
    alerts: "库存预警", transfers: "调拨", new_transfer: "发起调拨", from_wh: "调出仓", to_wh: "调入仓",
    start: "发起", ledger: "库存流水", kind: "类型", reference: "关联单据", when: "时间",
    in_force: "生效中", history: "历史版本", candidate: "候选规则", check: "检查",
    simulate: "模拟", last_n: "最近 N 个订单", publish: "发布", no_problems: "没有问题",
    problems: "问题", diff: "与生效版本的差异", changes: "将会改变的决策",
    samples: "示例订单", upload: "载入文件", version: "版本", loaded_by: "加载者",
    summary: "摘要", change: "变化", count: "数量", computed: "计算于", definition: "定义",
    orders_behind: "查看相关订单", csv: "CSV", slow_days: "滞销天数", apply: "应用",
    no_data: "该期间没有数据。", masked_note: "个人信息已脱敏。", loading: "加载中…",
    authorised: "已授权", captured: "已扣款", refunded: "已退款", none: "无",
    refresh_note: "自动刷新。", simulated: "个决策已重新计算", would_change: "个将改变",
    all_waiting: "全部待处理", published: "已发布", line: "行", version_live: "工作进程将在数秒内加载",
  },
};

export const STATUS = {
  zh: {
    received: "已接收", validated: "已校验", prioritised: "已定优先级", backordered: "缺货待补",
    reserved: "已预占", awaiting_payment: "待支付", payment_authorised: "已授权", fulfilling: "履约中",
    shipped: "已发货", in_transit: "运输中", out_for_delivery: "派送中", delivered: "已签收",
    completed: "已完成", on_hold: "已挂起", awaiting_operator: "待人工", cancelled: "已取消",
    requested: "已申请", rejected: "已拒绝", awaiting_goods: "待退回", refunded: "已退款",
  },
};

export function language() {
  const chosen = localStorage.getItem("ordo.lang");
  if (chosen === "en" || chosen === "zh") return chosen;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export function setLanguage(lang) {
  localStorage.setItem("ordo.lang", lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function t(key) {
  return WORDS[language()][key] ?? WORDS.en[key] ?? key;
}

export function status(value) {
  return (STATUS[language()] || {})[value] || value;
}
